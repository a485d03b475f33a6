import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAMED_QUERIES } from '../../queries/named-queries';
import { buildQueryTestLake, EDGE_MESSAGE_ID, EDGE_TENANT, type QueryTestLake } from '../../queries/test-lake';
import { runCli } from './run-cli.test-support';

let lake: QueryTestLake;

beforeAll(() => {
  // Few partitions (few files): each CLI run opens the lake afresh, as the command does.
  lake = buildQueryTestLake({ messages: 200, spanHours: 6 });
});

afterAll(() => {
  if (lake) rmSync(lake.dir, { recursive: true, force: true });
});

/** Runs `sesflow query …` against the test lake in process; returns the exit code and what it printed. */
function query(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCli(['query', ...args, '--lake', lake.dir]);
}

const argsFor = (name: string) => (name === 'message-timeline' ? ['--param', `message_id=${EDGE_MESSAGE_ID}`] : []);

describe('sesflow query', () => {
  it('runs every named query in json, csv and table, the same rows in each', { timeout: 180_000 }, async () => {
    for (const q of NAMED_QUERIES.values()) {
      const json = await query(q.name, '--tenant', EDGE_TENANT, '--format', 'json', ...argsFor(q.name));
      expect(json.code, `${q.name}: ${json.err}`).toBe(0);
      const rows = JSON.parse(json.out) as Record<string, unknown>[];
      expect(rows.length, q.name).toBeGreaterThan(0);
      expect(Object.keys(rows[0]!)).toEqual(q.columns.map((c) => c.name));
      expect(rows.every((r) => !('tenant_id' in r) || r.tenant_id === EDGE_TENANT)).toBe(true);

      const csv = await query(q.name, '--tenant', EDGE_TENANT, '--format', 'csv', ...argsFor(q.name));
      expect(csv.code).toBe(0);
      const lines = csv.out.trimEnd().split('\r\n');
      expect(lines[0]).toBe(q.columns.map((c) => c.name).join(','));
      expect(lines).toHaveLength(rows.length + 1);

      const table = await query(q.name, '--tenant', EDGE_TENANT, ...argsFor(q.name));
      expect(table.code).toBe(0);
      const tableLines = table.out.trimEnd().split('\n');
      expect(tableLines[0]!.split(/\s{2,}/)).toEqual(q.columns.map((c) => c.name));
      expect(tableLines).toHaveLength(rows.length + 2);
    }
  });

  it('csv of an empty result still has the header', async () => {
    const r = await query('complaint-breakdown', '--tenant', 'nobody', '--format', 'csv');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `${NAMED_QUERIES.get('complaint-breakdown')!
        .columns.map((c) => c.name)
        .join(',')}\r\n`,
    );
  });

  it('a time range and a query parameter narrow the rows', async () => {
    const r = await query(
      'bounced-recipients',
      '--tenant',
      EDGE_TENANT,
      '--from',
      '2026-05-02T10:00:00Z',
      '--param',
      'event_type=complaint',
      '--format',
      'json',
    );
    const rows = JSON.parse(r.out) as { event_type: string; event_time: string }[];
    expect(rows.map((x) => x.event_type)).toEqual(['complaint', 'complaint', 'complaint', 'complaint']);
  });

  it('bad input is one line on stderr and a non-zero exit', async () => {
    const cases: [string[], RegExp][] = [
      [['no-such-query'], /^sesflow: unknown query no-such-query \(known: tenant-summary, /],
      [['message-timeline'], /^sesflow: message-timeline needs --message_id$/],
      [['tenant-summary', '--from', 'yesterday'], /^sesflow: from is not an ISO 8601 time: yesterday$/],
      [
        ['tenant-summary', '--param', 'tenant=acme'],
        /^sesflow: tenant is set by the server, not by a query parameter$/,
      ],
      [['tenant-summary', '--param', 'nope=1'], /^sesflow: tenant-summary takes no parameter nope$/],
      [['bounce-breakdown', '--param', 'top=1;DROP'], /^sesflow: top must be a whole number$/],
      [['tenant-summary', '--format', 'xml'], /^sesflow: --format must be json, csv or table$/],
    ];
    for (const [args, message] of cases) {
      const r = await query(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err.trimEnd(), args.join(' ')).toMatch(message);
      expect(r.out).toBe('');
    }
  });
});
