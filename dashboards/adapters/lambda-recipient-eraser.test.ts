import type { InvokeCommand } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { LambdaRecipientEraser } from './lambda-recipient-eraser';

/** The request the Reports API sends the erasure function, and how it reads Lambda's answer (AWS only: shapes). */
function lambdaAnswering(answer: () => Promise<unknown>) {
  const sent: InvokeCommand[] = [];
  return {
    sent,
    client: {
      send: async (cmd: InvokeCommand) => {
        sent.push(cmd);
        return answer();
      },
    } as never,
  };
}

const INPUT = { address: 'ann@example.org', reason: 'ticket 12', requestedBy: 'sub-1', dryRun: false, tenant: 'acme' };

describe('LambdaRecipientEraser', () => {
  it("invokes the erasure function's alias asynchronously with the erasure handler's input", async () => {
    const lambda = lambdaAnswering(async () => ({ StatusCode: 202, $metadata: { requestId: 'req-1' } }));
    const out = await new LambdaRecipientEraser(lambda.client, 'sesflow-dev-erase-recipient:live').forget(INPUT);
    expect(out).toEqual({ ok: true, accepted: { requestId: 'req-1', dryRun: false } });
    const input = lambda.sent[0]!.input;
    expect(input.FunctionName).toBe('sesflow-dev-erase-recipient:live');
    expect(input.InvocationType).toBe('Event');
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual({
      address: 'ann@example.org',
      reason: 'ticket 12',
      requestedBy: 'sub-1',
      dryRun: false,
      tenant: 'acme',
    });
  });

  it('leaves out a tenant the request did not name (every tenant)', async () => {
    const lambda = lambdaAnswering(async () => ({ StatusCode: 202, $metadata: {} }));
    const { tenant: _, ...everyTenant } = INPUT;
    const out = await new LambdaRecipientEraser(lambda.client, 'f:live').forget({ ...everyTenant, dryRun: true });
    expect(out).toEqual({ ok: true, accepted: { requestId: null, dryRun: true } });
    expect(JSON.parse(new TextDecoder().decode(lambda.sent[0]!.input.Payload as Uint8Array))).not.toHaveProperty(
      'tenant',
    );
  });

  it('answers unavailable with one line, never the address, when Lambda refuses or fails', async () => {
    const failing = lambdaAnswering(async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
    });
    const out = await new LambdaRecipientEraser(failing.client, 'f:live').forget(INPUT);
    expect(out).toMatchObject({ ok: false, unavailable: true });
    const error = (out as { error: string }).error;
    expect(error).toMatch(/^the erasure function could not be invoked: .*Rate exceeded/);
    expect(error).not.toContain('ann@example.org');
    expect(error).not.toContain('\n');
    const odd = lambdaAnswering(async () => ({ StatusCode: 200, $metadata: {} }));
    expect(await new LambdaRecipientEraser(odd.client, 'f:live').forget(INPUT)).toEqual({
      ok: false,
      unavailable: true,
      error: 'the erasure function did not accept the request (200)',
    });
  });
});
