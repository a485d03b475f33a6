import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { FsLakeStore } from '../ingest/fs-lake-store';
import { textKeySql } from '../ingest/rollups';
import { type RollupStore, rebuildRollupDays, rollupDays, rollupKey, writeRollupFile } from '../ingest/rollups-writer';
import { ErasureStoreError } from './errors';
import { addressRegexSql, sqlString } from './lake-match';
import type { ErasureContext, ErasureTarget, StoreOutcome } from './ports';
import { addressForms } from './request';

/** What tells the rollups which raw files held the address (the lake's events eraser, after its `discover`). */
export interface AffectedLakeFiles {
  affectedKeys(): readonly string[];
}

const dayOfKey = (key: string): string | null => /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1] ?? null;

/**
 * The lake's rollups (ingest/rollups-writer.ts). They hold no address, but are derived from the address's rows: its
 * recipient and pair keys, and in `bounces` the SMTP diagnostic text, which may quote it. Put after the lake's events:
 * - each rolled-up day of a raw file that held the address is built again from the rewritten files (the keys and the
 *   text then derive from the pseudonym), the old build deleted;
 * - a day whose raw files retention has deleted (rollups are kept longer) cannot be built again: its `bounces` and
 *   `complaints` files are rewritten in place, the address in diagnostic text replaced by its pseudonym, and the
 *   recipient key of a row of the address by a pseudonym's key. A row is the address's when its key is that of the
 *   address in lower case or in a spelling the events held, or when its diagnostic quotes the address. A complaint
 *   of a day past raw retention, under a spelling no other file holds, keeps its key: a 63-bit one-way digest.
 * Running it again finds nothing: the raw files no longer hold the address, and the rewritten rollups neither.
 */
export class LakeRollupsEraser implements ErasureTarget {
  readonly store = 'lake rollups';

  constructor(
    private readonly lake: RollupStore,
    private readonly affected: AffectedLakeFiles,
    private readonly options: { scratchDir?: string } = {},
  ) {}

  async erase(ctx: ErasureContext): Promise<StoreOutcome> {
    const days = await rollupDays(this.lake);
    const wanted = new Set(this.affected.affectedKeys().map(dayOfKey));
    const rebuild = [...days.values()]
      .filter((d) => d.build && d.raw.length > 0 && wanted.has(d.day))
      .map((d) => d.day);
    const orphans = [...days.values()].filter((d) => d.build && d.raw.length === 0);
    const scratch = mkdtempSync(join(this.options.scratchDir ?? tmpdir(), 'sesflow-erase-rollups-'));
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await instance.connect();
    try {
      const scrub: { key: string; path: string }[] = [];
      for (const d of orphans) {
        for (const table of ['bounces', 'complaints'] as const) {
          const key = rollupKey(table, d.day, d.build!);
          const path = await this.local(key, scratch, `${table}-${d.day}.parquet`);
          if ((await this.holding(conn, path, table, ctx)) > 0) scrub.push({ key, path });
        }
      }
      const items = [...rebuild.map((d) => `dt=${d} (rebuild)`), ...scrub.map((s) => `${s.key} (rewrite)`)];
      const found = rebuild.length + scrub.length;
      if (ctx.dryRun || found === 0) {
        return {
          store: this.store,
          found,
          changed: 0,
          action:
            found === 0
              ? 'nothing derives from the address'
              : `would rebuild ${rebuild.length} days and rewrite ${scrub.length} files of days past raw retention`,
          items,
        };
      }
      const rebuilt = await rebuildRollupDays(this.lake, rebuild, { scratchDir: this.options.scratchDir });
      for (const [i, s] of scrub.entries()) {
        const out = join(scratch, `out-${i}.parquet`);
        await this.rewrite(conn, s.path, out, s.key.startsWith('rollups/bounces/'), ctx);
        if ((await this.holding(conn, out, s.key.startsWith('rollups/bounces/') ? 'bounces' : 'complaints', ctx)) > 0)
          throw new ErasureStoreError('a rewritten rollup file still derives from the address; it was left as it was');
        await this.lake.put(s.key, readFileSync(out));
      }
      return {
        store: this.store,
        found,
        changed: rebuilt.days + scrub.length,
        action: `rebuilt ${rebuilt.days} days from the rewritten events; rewrote ${scrub.length} files of days past raw retention`,
        items,
      };
    } finally {
      conn.closeSync();
      instance.closeSync();
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** A local path of a lake key: in place for a local lake, else a copy in `scratch`. */
  private async local(key: string, scratch: string, name: string): Promise<string> {
    if (this.lake instanceof FsLakeStore) return this.lake.path(key);
    const path = join(scratch, name);
    writeFileSync(path, await this.lake.get(key));
    return path;
  }

  /**
   * The recipient keys of the address and what replaces each: of each spelling the lake's events held (ctx.subjects,
   * as the events eraser found them) and of the address in lower case, each replaced by the key of the pseudonym that
   * replaced that spelling in the events, as a rebuild would give.
   */
  private keys(ctx: ErasureContext): { old: string; new: string }[] {
    const address = ctx.request.address.toLowerCase();
    const spellings = new Set([address]);
    for (const set of ctx.subjects.messages.values())
      for (const r of set) if (r.toLowerCase() === address) spellings.add(r);
    return [...spellings].map((f) => ({
      old: textKeySql('duckdb', sqlString(`r${f}`)),
      new: textKeySql('duckdb', sqlString(`r${ctx.pseudonyms.recipient(f)}`)),
    }));
  }

  /** A bounce whose diagnostic quotes the address (any spelling: its own recipient key is then replaced too). */
  private quotes(ctx: ErasureContext): string {
    return `(${addressForms(ctx.request.address)
      .map((f) => `strpos(lower(diagnostic_code), ${sqlString(f)}) > 0`)
      .join(' OR ')})`;
  }

  private condition(table: 'bounces' | 'complaints', ctx: ErasureContext): string {
    const keyed = `recipient_key IN (${this.keys(ctx)
      .map((k) => k.old)
      .join(', ')})`;
    const any = table === 'bounces' ? `(${keyed} OR ${this.quotes(ctx)})` : `(${keyed})`;
    return ctx.request.tenant ? `(${any} AND tenant_id = ${sqlString(ctx.request.tenant)})` : any;
  }

  private async holding(
    conn: DuckDBConnection,
    path: string,
    table: 'bounces' | 'complaints',
    ctx: ErasureContext,
  ): Promise<number> {
    const rows = (
      await conn.runAndReadAll(
        `SELECT count(*) AS n FROM read_parquet(${sqlString(path)}, hive_partitioning = false) WHERE ${this.condition(table, ctx)}`,
      )
    ).getRowObjectsJS() as { n: bigint }[];
    return Number(rows[0]!.n);
  }

  private async rewrite(
    conn: DuckDBConnection,
    input: string,
    output: string,
    bounces: boolean,
    ctx: ErasureContext,
  ): Promise<void> {
    const inTenant = ctx.request.tenant ? `tenant_id = ${sqlString(ctx.request.tenant)}` : 'TRUE';
    const keys = this.keys(ctx);
    const quoted = bounces ? `WHEN ${inTenant} AND ${this.quotes(ctx)} THEN ${keys[0]!.new} ` : '';
    const key = `CASE ${keys
      .map((k) => `WHEN ${inTenant} AND recipient_key = ${k.old} THEN ${k.new}`)
      .join(' ')} ${quoted}ELSE recipient_key END`;
    const replace = bounces
      ? `, CASE WHEN ${inTenant} THEN regexp_replace(diagnostic_code, ${addressRegexSql(ctx.request.address)}, ${sqlString(ctx.pseudonyms.text(ctx.request.address))}, 'g') ELSE diagnostic_code END AS diagnostic_code`
      : '';
    // Written as the rollup writer writes the file (tenant-bounded row groups, the layout in its metadata).
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE _erase_rollup AS SELECT * REPLACE (${key} AS recipient_key${replace})
       FROM read_parquet(${sqlString(input)}, hive_partitioning = false)`,
    );
    await writeRollupFile(conn, '_erase_rollup', bounces ? 'bounces' : 'complaints', output);
    await conn.run('DROP TABLE _erase_rollup');
  }
}
