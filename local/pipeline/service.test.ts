import { describe, expect, it } from 'vitest';
import type { LocalClients } from '../stack/clients';
import { type PipelineContext, serviceNeeding } from './service';

/** A context with only the clients and endpoints given; its log lines are collected. */
function contextWith(clients: Partial<LocalClients>, endpoints: Record<string, string> = {}) {
  const lines: string[] = [];
  const ctx = { clients, endpoints, log: (line: string) => lines.push(line) } as unknown as PipelineContext;
  return { ctx, lines };
}

describe('serviceNeeding: a local service starts only with the stand-ins it names', () => {
  const service = serviceNeeding(
    'probe',
    { clients: ['dynamodb', 'kinesis', 'sqs'], endpoints: ['dns'] },
    async (_ctx, clients, endpoints) => {
      started.push({ clients, endpoints });
      return undefined;
    },
  );
  const started: unknown[] = [];

  it('hands over the clients and endpoints when every stand-in runs', async () => {
    const clients = { dynamodb: {}, kinesis: {}, sqs: {}, ses: {} } as unknown as LocalClients;
    const { ctx, lines } = contextWith(clients, { dns: 'udp://127.0.0.1:5353' });
    await service.start(ctx);
    expect(started.at(-1)).toEqual({
      clients: { dynamodb: clients.dynamodb, kinesis: clients.kinesis, sqs: clients.sqs },
      endpoints: { dns: 'udp://127.0.0.1:5353' },
    });
    expect(lines).toEqual([]);
  });

  it('starts nothing and names every stand-in it needs when one is missing', async () => {
    const before = started.length;
    const { ctx, lines } = contextWith({ dynamodb: {}, sqs: {} } as unknown as LocalClients, { dns: 'udp://x' });
    expect(await service.start(ctx)).toBeUndefined();
    expect(started).toHaveLength(before);
    expect(lines).toEqual(['probe: not started (needs DynamoDB Local, kinesalite, fauxqs and the local DNS server)']);
  });
});
