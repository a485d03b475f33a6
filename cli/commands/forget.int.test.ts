import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQueryTestLake, busiestRecipient, type QueryTestLake } from '../../queries/test-lake';
import { runCli } from './run-cli.test-support';

let lake: QueryTestLake;
let dataDir: string;
let address: string;

beforeAll(async () => {
  lake = buildQueryTestLake({ messages: 150, spanHours: 4 });
  dataDir = mkdtempSync(join(tmpdir(), 'sesflow-forget-cli-'));
  address = await busiestRecipient(lake.dir);
});

afterAll(() => {
  for (const d of [lake?.dir, dataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

/** `sesflow forget …` with no running stack: only the lake. */
const forget = (...args: string[]) => runCli(['forget', ...args, '--lake', lake.dir, '--data-dir', dataDir]);

describe('sesflow forget', () => {
  it('refuses bad input with one line and a non-zero exit, changing nothing', async () => {
    const noReason = await forget(address);
    expect(noReason.code).not.toBe(0);
    expect(noReason.err).toMatch(/--reason/);
    const bad = await forget('not-an-address', '--reason', 'ticket 9');
    expect(bad.code).not.toBe(0);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(bad.err).toMatch(/not an email address/);
    expect(bad.err).not.toContain('not-an-address');
  });

  it('--dry-run lists the files that would change, then the erasure does it; a second run finds nothing', async () => {
    const dry = await forget(address.toUpperCase(), '--reason', 'ticket 9', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/^Dry run \(nothing changed\)/);
    expect(dry.out).toMatch(/lake events \(Parquet\)\s+found\s+[1-9]/);
    expect(dry.out).toMatch(/events\/dt=.*\.parquet \(\d+ rows\)/);
    expect(dry.out).toContain('no DynamoDB endpoint');
    expect(dry.out.toLowerCase()).not.toContain(address.toLowerCase());
    const done = await forget(address, '--reason', 'ticket 9', '--format', 'json');
    expect(done.code).toBe(0);
    const report = JSON.parse(done.out) as { complete: boolean; stores: { store: string; changed: number }[] };
    expect(report.complete).toBe(true);
    expect(report.stores.find((s) => s.store === 'lake events (Parquet)')!.changed).toBeGreaterThan(0);
    const again = await forget(address, '--reason', 'ticket 9', '--format', 'json');
    expect((JSON.parse(again.out) as { stores: { changed: number }[] }).stores.every((s) => s.changed === 0)).toBe(
      true,
    );
    const audit = readFileSync(join(dataDir, 'erasure-audit.ndjson'), 'utf8');
    expect(audit.trim().split('\n')).toHaveLength(3);
    expect(audit.toLowerCase()).not.toContain(address.toLowerCase());
  });
});
