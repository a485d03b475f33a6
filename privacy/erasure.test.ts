import { describe, expect, it } from 'vitest';
import { AthenaLakeFileFinder } from './athena-lake-file-finder';
import { forgetRecipient, formatErasureReport } from './erase';
import { scrubErrorLine } from './lake-errors-eraser';
import type { ErasureTarget } from './ports';
import { holdsAddress, Pseudonymiser, parseErasureRequest, scrubText } from './request';
import { VersionedS3LakeStore } from './versioned-s3-lake-store';

const KEY = 'a-test-erasure-key-of-at-least-32-chars';
const request = parseErasureRequest({ address: ' Ann.Lee@Example.ORG ', reason: 'ticket 1', requestedBy: 'officer' });

describe('erasure requests and pseudonyms', () => {
  it('takes an address in any case, refuses what is not one, naming the field but not the value', () => {
    expect(request.address).toBe('ann.lee@example.org');
    expect(() => parseErasureRequest({ address: 'Ann <ann@x.org>', reason: 'ticket 1', requestedBy: 'o' })).toThrow(
      /^address: not an email address/,
    );
    expect(() => parseErasureRequest({ address: 'ann@x.org', reason: '', requestedBy: 'o' })).toThrow(/^reason: /);
  });

  it('pseudonyms are keyed, stable, free of the address, and keep two spellings of it apart', () => {
    const p = new Pseudonymiser(KEY);
    const q = new Pseudonymiser(`${KEY}-other`);
    expect(p.recipient('Ann.Lee@example.org')).toBe(p.recipient('Ann.Lee@example.org'));
    expect(p.recipient('Ann.Lee@example.org')).not.toBe(p.recipient('ann.lee@example.org'));
    expect(p.recipient('Ann.Lee@example.org').slice(0, 31)).toBe(p.recipient('ann.lee@example.org').slice(0, 31));
    expect(p.recipient('ann.lee@example.org')).not.toBe(q.recipient('ann.lee@example.org'));
    expect(p.recipient('ann.lee@example.org')).toMatch(/^erased:[0-9a-f]{32}$/);
    expect(p.eventId('0123456789abcdef0123456789abcdef')).toMatch(/^[0-9a-f]{32}$/);
    expect(p.auditDigest('ANN.LEE@example.org')).toBe(p.auditDigest('ann.lee@example.org'));
    expect(() => new Pseudonymiser('short')).toThrow(/at least 32/);
  });

  it('finds and replaces the address in text in any case, plain or URL-encoded, and nothing else', () => {
    const text = 'To: ANN.LEE@example.org, see https://x.test/u?e=ann.lee%40example.org; annXlee@example.org';
    expect(holdsAddress(text, request.address)).toBe(true);
    const out = scrubText(text, request.address, 'erased:1');
    expect(out).toBe('To: erased:1, see https://x.test/u?e=erased:1; annXlee@example.org');
    expect(holdsAddress(out, request.address)).toBe(false);
  });

  it('scrubs an error record inside its base64 raw data, keeping the rest; leaves other records alone', () => {
    const raw = JSON.stringify({ eventType: 'Bounce', mail: { destination: ['Ann.Lee@example.org'] } });
    const line = JSON.stringify({
      errorType: 'schema',
      reason: 'bad',
      source: 'f:1',
      rawData: Buffer.from(raw).toString('base64'),
    });
    const out = scrubErrorLine(line, request.address, 'erased:1')!;
    const parsed = JSON.parse(out) as { rawData: string; reason: string };
    expect(Buffer.from(parsed.rawData, 'base64').toString()).toBe(raw.replace('Ann.Lee@example.org', 'erased:1'));
    expect(parsed.reason).toBe('bad');
    expect(scrubErrorLine(line.replace(/rawData":"[^"]+/, 'rawData":"e30='), request.address, 'erased:1')).toBeNull();
    expect(scrubErrorLine('not json Ann.Lee@example.org', request.address, 'x')).toBe('not json x');
  });
});

describe('forgetRecipient', () => {
  const target = (store: string, found: number, fail = false): ErasureTarget & { ran: boolean[] } => {
    const ran: boolean[] = [];
    return {
      store,
      ran,
      async erase(ctx) {
        ran.push(ctx.dryRun);
        if (fail) throw new Error(`store down near '${ctx.request.address}'\nstack line`);
        return { store, found, changed: ctx.dryRun ? 0 : found, action: 'done' };
      },
    };
  };

  it('runs every store even when one fails, and then says the erasure is not complete', async () => {
    const a = target('a', 1, true);
    const b = target('b', 2);
    const audited: unknown[] = [];
    const report = await forgetRecipient(request, {
      key: KEY,
      targets: [a, b],
      audit: { record: async (r) => void audited.push(r) },
    });
    expect(b.ran).toEqual([false]);
    expect(report.complete).toBe(false);
    expect(report.stores[0]).toMatchObject({ store: 'a', found: 0, changed: 0 });
    expect(report.stores[0]!.action).toMatch(/^failed: store down near 'erased:[0-9a-f]{24}'$/);
    expect(audited).toHaveLength(1);
    expect(JSON.stringify(audited)).not.toContain('ann.lee');
    expect(formatErasureReport(report)).toMatch(/NOT complete: run again/);
  });

  it('keeps a reason that quotes the address with the address replaced', async () => {
    const quoted = parseErasureRequest({
      address: 'ann.lee@example.org',
      reason: 'from Ann.Lee@example.org',
      requestedBy: 'o',
    });
    const report = await forgetRecipient(quoted, { key: KEY, targets: [] });
    expect(report.reason).toMatch(/^from erased:[0-9a-f]{24}$/);
  });

  it('passes the dry run to every store, and a dry run is never complete', async () => {
    const a = target('a', 3);
    const report = await forgetRecipient(request, { key: KEY, targets: [a], dryRun: true });
    expect(a.ran).toEqual([true]);
    expect(report).toMatchObject({ dryRun: true, complete: false, stores: [{ found: 3, changed: 0 }] });
  });
});

describe('AWS adapters', () => {
  it('Athena: finds files by "$path" with the recipient named by a digest, never by the address', async () => {
    const sql: string[] = [];
    const finder = new AthenaLakeFileFinder(
      {
        run: async (s: string) => {
          sql.push(s);
          return {
            queryExecutionId: 'q',
            columns: [],
            rows: [{ path: 's3://lake/events/dt=2026-12-01/hour=01/f.parquet' }],
            bytesScanned: 0,
            reusedPreviousResult: false,
            truncated: false,
          };
        },
      },
      'events_raw',
      's3://lake/',
    );
    expect(await finder.find(request.address, 'acme')).toEqual(['events/dt=2026-12-01/hour=01/f.parquet']);
    expect(sql[0]).toContain('SELECT DISTINCT "$path"');
    expect(sql[0]).toContain("tenant_id = 'acme'");
    expect(sql[0]!.toLowerCase()).not.toContain('ann.lee');
    expect(sql[0]).toMatch(/= '[0-9A-F]{64}'/);
  });

  it('S3: after a rewrite, every older version of the key (and delete marker) is deleted', async () => {
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const s3 = {
      send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: cmd.constructor.name, input: cmd.input });
        if (cmd.constructor.name === 'ListObjectVersionsCommand') {
          return {
            Versions: [
              { Key: 'events/a.parquet', VersionId: 'v3', IsLatest: true },
              { Key: 'events/a.parquet', VersionId: 'v2', IsLatest: false },
              { Key: 'events/a.parquet.bak', VersionId: 'x1', IsLatest: false },
            ],
            DeleteMarkers: [{ Key: 'events/a.parquet', VersionId: 'm1', IsLatest: false }],
          };
        }
        return {};
      },
    };
    const store = new VersionedS3LakeStore(s3 as never, 'lake');
    await store.put('events/a.parquet', 'x');
    expect(sent.map((s) => s.name)).toEqual([
      'PutObjectCommand',
      'ListObjectVersionsCommand',
      'DeleteObjectCommand',
      'DeleteObjectCommand',
    ]);
    expect(sent.slice(2).map((s) => s.input.VersionId)).toEqual(['v2', 'm1']);
  });
});
