import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../main';

const dir = mkdtempSync(join(tmpdir(), 'sesflow-simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => main(['node', 'sesflow', 'simulate', '--no-progress', ...args]);

describe('sesflow simulate', () => {
  it('writes the same NDJSON for the same seed, gzipped when the name ends in .gz', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const a = join(dir, 'a.ndjson');
    const b = join(dir, 'b.ndjson.gz');
    const args = ['--tenants', '3', '--messages', '300', '--seed', '9', '--start', '2026-05-01T00:00:00Z'];
    expect(await run('--out', a, ...args)).toBe(0);
    expect(await run('--out', b, ...args)).toBe(0);
    vi.restoreAllMocks();
    const plain = readFileSync(a, 'utf8');
    expect(gunzipSync(readFileSync(b)).toString('utf8')).toBe(plain);
    const lines = plain.trimEnd().split('\n');
    expect(lines.filter((l) => JSON.parse(l).eventType === 'Send')).toHaveLength(300);
    expect(JSON.parse(lines[0]!).mail.timestamp.startsWith('2026-05-01T00:')).toBe(true);
  });

  it('keeps each message together with --order message', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const f = join(dir, 'm.ndjson');
    expect(await run('--out', f, '--messages', '50', '--order', 'message', '--seed', '2')).toBe(0);
    vi.restoreAllMocks();
    const ids = readFileSync(f, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).mail.messageId as string);
    const runs = ids.filter((id, i) => i === 0 || ids[i - 1] !== id);
    expect(new Set(runs).size).toBe(runs.length); // a message's records never come back after another's
    expect(runs).toHaveLength(50);
  });

  it('stops at --max-records', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const f = join(dir, 'c.ndjson');
    expect(await run('--out', f, '--messages', '100', '--max-records', '17')).toBe(0);
    vi.restoreAllMocks();
    expect(readFileSync(f, 'utf8').trimEnd().split('\n')).toHaveLength(17);
  });

  it('rejects a bad number with a one-line error and exit code 1', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await run('--out', join(dir, 'd.ndjson'), '--messages', 'lots');
    const printed = err.mock.calls.map((c) => String(c[0])).join('');
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(printed).toBe('sesflow: --messages must be a number\n');
  });
});
