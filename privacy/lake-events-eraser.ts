import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { LakeStore } from '../ingest/lake-store';
import { ErasureStoreError } from './errors';
import type { LakeFileFinder } from './lake-file-finder';
import { type FileErasure, inspectParquetFile, rewriteParquetFile } from './parquet-rewrite';
import type { ErasureContext, ErasureTarget, StoreOutcome } from './ports';

/**
 * The lake's events: the files holding the address are found through the file path column (`_file` of the local
 * view, `"$path"` in Athena), each is read, rewritten with the address's rows pseudonymised (privacy/parquet-rewrite.ts)
 * and put back under its own key. The store writes atomically (a local lake writes a temporary file and renames it
 * into place, as compaction does; an S3 PUT is whole or nothing), so a reader sees the old file or the new one, and a
 * crash leaves some files rewritten and the others as they were: running again finishes the job. The key is kept, so
 * the partition's deduplication (writer and time in the file name) is unchanged and no row is ever there twice.
 */
export class LakeEventsEraser implements ErasureTarget {
  readonly store = 'lake events (Parquet)';
  private found = new Map<string, FileErasure>();

  constructor(
    private readonly lake: LakeStore,
    private readonly finder: LakeFileFinder,
  ) {}

  private async withDuckDb<T>(fn: (conn: DuckDBConnection, dir: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), 'sesflow-erase-'));
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await instance.connect();
    try {
      return await fn(conn, dir);
    } finally {
      conn.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The keys of the files that held the address when `discover` ran (their days' rollups are rebuilt after). */
  affectedKeys(): readonly string[] {
    return [...this.found.keys()];
  }

  async discover(ctx: ErasureContext): Promise<void> {
    const { address, tenant } = ctx.request;
    const keys = await this.finder.find(address, tenant);
    this.found = new Map();
    await this.withDuckDb(async (conn, dir) => {
      for (const [i, key] of keys.entries()) {
        const local = join(dir, `in-${i}.parquet`);
        writeFileSync(local, await this.lake.get(key));
        const f = await inspectParquetFile(conn, local, address, tenant);
        this.found.set(key, f);
        for (const s of f.subjects) {
          const set = ctx.subjects.messages.get(s.messageId) ?? new Set<string>();
          set.add(s.recipient);
          ctx.subjects.messages.set(s.messageId, set);
        }
      }
    });
  }

  async erase(ctx: ErasureContext): Promise<StoreOutcome> {
    const { address, tenant } = ctx.request;
    const keys = [...this.found.keys()];
    const rows = [...this.found.values()].reduce((n, f) => n + f.holdingRows, 0);
    const items = keys.map((k) => `${k} (${this.found.get(k)!.holdingRows} rows)`);
    if (ctx.dryRun || keys.length === 0) {
      return {
        store: this.store,
        found: rows,
        changed: 0,
        action:
          keys.length === 0
            ? 'nothing holds the address'
            : `would rewrite ${keys.length} files: recipient, event id, IP and user agent of ${rows} rows replaced (counts kept)`,
        items,
      };
    }
    let rewritten = 0;
    await this.withDuckDb(async (conn, dir) => {
      for (const [i, key] of keys.entries()) {
        const input = join(dir, `in-${i}.parquet`);
        const output = join(dir, `out-${i}.parquet`);
        writeFileSync(input, await this.lake.get(key));
        await rewriteParquetFile(conn, input, output, address, ctx.pseudonyms, tenant);
        // A file compaction merged away meanwhile must not come back (its rows are in the merged file, which a
        // second run finds): only a key still listed is put back.
        if (!(await this.lake.list(key)).includes(key)) {
          throw new ErasureStoreError('a lake file was replaced while it was being erased (compaction?): run again');
        }
        await this.lake.put(key, readFileSync(output));
        rewritten++;
      }
    });
    return {
      store: this.store,
      found: rows,
      changed: rewritten,
      action: `rewrote ${rewritten} files: recipient, event id, IP and user agent of ${rows} rows replaced by keyed pseudonyms (counts kept)`,
      items,
    };
  }
}
