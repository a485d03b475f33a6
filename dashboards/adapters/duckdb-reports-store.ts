import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { localRollupDays, rollupKey } from '../../ingest/rollups-writer';
import { defineEventsViews, type FileSchema, type FileSchemaCache } from '../../queries/duckdb-lake';
import { ROLLUP_TABLES, type RollupTable } from '../../queries/rollups';
import { DAY_MS, dayText, hourPartitions } from '../report-split';
import { DERIVED_TABLES, updateDerived } from './duckdb-rollup-derived';

/**
 * What the local reports engine holds, and how it reads the rest (docs/dashboards.md "Reports engine"):
 * - the rollup tables (queries/rollups.ts) of every rolled-up day, its current build's files loaded from
 *   `<lake>/rollups/<table>/dt=*` into DuckDB tables `rollup_<table>` (with the day as `dt`, text, as in the Glue
 *   tables). A day rebuilt (a late event, a compaction, an erasure) is loaded again alone; nothing else is reloaded.
 *   A stale day (its raw files changed since its build) is read raw until the writer rebuilds it;
 * - no raw rows: the raw events of a report's open edges and drill-down are read from the Parquet files of the hour
 *   partitions its period touches, through a temporary `events` view with the lake's deduplication
 *   (queries/duckdb-lake.ts), at each request.
 * Memory is therefore bounded by the rollups and one request's window, not by the lake: DuckDB's `memory_limit` caps
 * its buffers (default 1 GB; a larger sort or aggregate spills to `temp_directory` instead of growing), and the
 * rollup tables live in a DuckDB file when one is given (kept across restarts: a restart reloads only the days whose
 * files changed meanwhile), in memory otherwise.
 */
export interface ReportsStoreOptions {
  lakeDir: string;
  /** The DuckDB file that keeps the rollup tables across restarts (null: in memory). */
  dbFile?: string | null;
  /** DuckDB's memory_limit (default `1GB`). */
  memoryLimit?: string;
  threads?: number;
  /** The lake is listed at most once per this many ms (default 1 s; 0: at every refresh). */
  minIntervalMs?: number;
  /** Raw events are kept this many days (privacy/ retention); days before have rollups only. Null: kept for ever. */
  rawRetentionDays?: number | null;
  now?: () => number;
}

interface Listed {
  /** The current build's file of each `<table>/<dt>`, and its signature (the build's name: each build has its own). */
  rollups: Map<string, { table: RollupTable['name']; dt: string; file: string; signature: string }>;
  /** Raw event files by hour partition (`dt=…/hour=…`), with their versions (size and modification time). */
  raw: Map<string, { folder: string; names: string[]; versions: string[] }>;
  /** Days (`YYYY-MM-DD`) rolled up and fresh: built from the raw files the lake holds now (or since deleted). */
  fresh: Set<string>;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const DUCK_TYPES = { VARCHAR: 'VARCHAR', BIGINT: 'BIGINT', BOOLEAN: 'BOOLEAN', TIMESTAMP: 'TIMESTAMP' } as const;

/**
 * The lake as the rollup writer sees it (ingest/rollups-writer.ts): each day's current build (its `daily` file's
 * name; only the files of that name belong to the day) and whether it is fresh (the digest of the day's raw listing
 * in the build's name is that of the raw files now), and the raw event files by hour partition.
 */
async function listLake(lakeDir: string): Promise<Listed> {
  const out: Listed = { rollups: new Map(), raw: new Map(), fresh: new Set() };
  for (const d of (await localRollupDays(lakeDir)).values()) {
    for (const o of d.raw) {
      const m = /^events\/(dt=\d{4}-\d{2}-\d{2}\/hour=\d{2})\/([^/]+)$/.exec(o.key);
      if (!m) continue;
      const entry = out.raw.get(m[1]!) ?? { folder: join(lakeDir, 'events', m[1]!), names: [], versions: [] };
      entry.names.push(m[2]!);
      entry.versions.push(`${m[2]}:${o.size}:${o.version}`);
      out.raw.set(m[1]!, entry);
    }
    if (d.build === null) continue;
    if (d.fresh) out.fresh.add(d.day);
    for (const t of ROLLUP_TABLES) {
      const key = rollupKey(t.name, d.day, d.build);
      if (!d.rollupKeys.includes(key)) continue;
      out.rollups.set(`${t.name}/${d.day}`, { table: t.name, dt: d.day, file: join(lakeDir, key), signature: d.build });
    }
  }
  return out;
}

/** The local reports engine's DuckDB: rollup tables loaded day by day, raw events read per request. */
export class DuckDbReportsStore {
  /** The signature of each loaded `<table>/<dt>` (as stored in `_rollup_files`). */
  private readonly loaded = new Map<string, string>();
  private listed: Listed = { rollups: new Map(), raw: new Map(), fresh: new Set() };
  private lastList = Number.NEGATIVE_INFINITY;
  /** Listings started, and the number and start time of the last one applied (0: none yet). */
  private listingSeq = 0;
  private appliedListing = 0;
  private appliedStart = Number.NEGATIVE_INFINITY;
  /** The listing running now, and the newest one finished and not applied yet. */
  private inFlight: { seq: number; done: Promise<void> } | null = null;
  private finishedListing:
    | { seq: number; start: number; listed: Listed }
    | { seq: number; start: number; error: unknown }
    | null = null;
  /** The derived tables' own connection and their updates queued on it (see {@link derivedCurrent}). */
  private derivedConnection: DuckDBConnection | null = null;
  private derivedWork: Promise<void> = Promise.resolve();
  /** The digest of the builds the derived tables come from, and of the builds loaded now. */
  private derivedDigest: string | null = null;
  private currentDigest = '';
  private closed = false;
  /** Days (`YYYY-MM-DD`) rolled up and fresh (ingest/rollups-writer.ts), their current build loaded. */
  private ready = new Set<string>();
  /** The files the temporary `events` view is defined over now (null: none, or to be defined again). */
  private viewKey: string | null = null;
  /** The schema of each raw file read, by path and version (see {@link schemaCache}). */
  private readonly schemas = new Map<string, FileSchema>();
  /** The `<table>/<dt>` the last refresh loaded or dropped (for logs and tests). */
  lastReloaded: string[] = [];
  /** The time ranges whose raw partitions the last {@link withRawEvents} read (for logs and tests). */
  lastRawRanges: readonly { from: number; to: number }[] = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    /** The one connection (a connection runs one statement at a time: callers share a serial queue). */
    readonly connection: DuckDBConnection,
    private readonly opts: ReportsStoreOptions,
  ) {}

  static async open(opts: ReportsStoreOptions): Promise<DuckDbReportsStore> {
    const instance = await DuckDBInstance.create(opts.dbFile ?? ':memory:', {
      threads: String(opts.threads ?? 2),
      memory_limit: opts.memoryLimit ?? '1GB',
    });
    const connection = await instance.connect();
    await connection.run('SET parquet_metadata_cache = true');
    // Rows need no order between statements: DuckDB may stream and spill more freely.
    await connection.run('SET preserve_insertion_order = false');
    const store = new DuckDbReportsStore(instance, connection, opts);
    await store.createTables();
    return store;
  }

  /**
   * The rollup tables (made again when their columns changed), the tables derived from them
   * (duckdb-rollup-derived.ts: made again and filled from the rollup tables when new or changed) and the record of
   * which files they hold.
   */
  private async createTables(): Promise<void> {
    const conn = this.connection;
    await conn.run('CREATE TABLE IF NOT EXISTS _rollup_files (part VARCHAR PRIMARY KEY, signature VARCHAR)');
    const columnsOf = async (table: string) =>
      (
        await conn.runAndReadAll(
          `SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) AS c
           FROM information_schema.columns WHERE table_name = '${table}' AND table_schema = 'main'`,
        )
      ).getRowObjectsJS()[0]?.c;
    for (const t of ROLLUP_TABLES) {
      const cols = [...t.columns.map(([n, ty]) => `${n} ${DUCK_TYPES[ty]}`), 'dt VARCHAR'].join(', ');
      if ((await columnsOf(`rollup_${t.name}`)) !== cols) {
        await conn.run(`CREATE OR REPLACE TABLE rollup_${t.name} (${cols})`);
        await conn.run(`DELETE FROM _rollup_files WHERE starts_with(part, '${t.name}/')`);
      }
    }
    const rows = (await conn.runAndReadAll('SELECT part, signature FROM _rollup_files')).getRowObjectsJS();
    for (const r of rows) this.loaded.set(String(r.part), String(r.signature));
    // The derived tables, made again and filled when new, changed, or not derived from the builds loaded now.
    await conn.run('CREATE TABLE IF NOT EXISTS _derived_state (digest VARCHAR)');
    const state = (await conn.runAndReadAll('SELECT digest FROM _derived_state')).getRowObjectsJS()[0]?.digest;
    let rebuild = state !== this.loadedDigest();
    for (const d of DERIVED_TABLES) {
      if ((await columnsOf(d.name)) !== d.columns) {
        await conn.run(d.ddl);
        rebuild = true;
      }
    }
    this.currentDigest = this.loadedDigest();
    if (rebuild) await this.updateDerivedTables(conn, null, null, this.currentDigest);
    else this.derivedDigest = this.currentDigest;
  }

  /**
   * Whether the derived tables come from the rollup rows loaded now. After a load, they are updated on a connection
   * of their own in the background (a few seconds for every day of a 10 M-event lake at a cold start, which no
   * report waits for: until then the rollup renderings answer); with `minIntervalMs` 0, before the refresh returns.
   */
  derivedCurrent(): boolean {
    return this.derivedDigest === this.currentDigest;
  }

  /** Resolves once the derived tables' queued updates have run (for tests and benchmarks). */
  async derivedSettled(): Promise<void> {
    await this.derivedWork;
  }

  /** A digest of the builds loaded (what the derived tables must be derived from). */
  private loadedDigest(): string {
    const parts = [...this.loaded].map(([p, s]) => `${p}=${s}`).sort();
    return createHash('sha256').update(parts.join('\n')).digest('hex');
  }

  /**
   * Brings the derived tables up to date with the rollup rows of the days just loaded (`null`: every day), in one
   * transaction that records what they are derived from.
   */
  private async updateDerivedTables(
    conn: DuckDBConnection,
    daily: string[] | null,
    pairs: string[] | null,
    digest: string,
  ): Promise<void> {
    const pairDays = [...this.loaded.keys()].filter((p) => p.startsWith('pairs/')).map((p) => p.slice(6));
    const oldest = pairDays.sort()[0] ?? null;
    await conn.run('BEGIN TRANSACTION');
    try {
      if (daily === null || daily.length > 0) await updateDerived(conn, 'daily', daily);
      if (pairs === null || pairs.length > 0) await updateDerived(conn, 'pairs', pairs, oldest);
      await conn.run('DELETE FROM _derived_state');
      await conn.run(`INSERT INTO _derived_state VALUES (${sqlString(digest)})`);
      await conn.run('COMMIT');
      this.derivedDigest = digest;
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Queues the derived tables' update after a load (see {@link derivedCurrent}). */
  private async queueDerived(daily: string[], pairs: string[]): Promise<void> {
    const digest = this.currentDigest;
    const run = async (d: string[] | null, p: string[] | null) => {
      if (this.closed) return;
      this.derivedConnection ??= await this.instance.connect();
      await this.updateDerivedTables(this.derivedConnection, d, p, digest);
    };
    // An update that failed leaves the tables behind: the next one rebuilds them whole.
    this.derivedWork = this.derivedWork
      .then(() => (this.derivedDigest === null ? run(null, null) : run(daily, pairs)))
      .catch(() => {
        this.derivedDigest = null;
      });
    if ((this.opts.minIntervalMs ?? 1_000) === 0) await this.derivedWork;
  }

  /**
   * Brings the rollup tables up to date with the lake (call inside the serial queue): a report sees every change made
   * to the lake more than `minIntervalMs` before it. Listing a large lake takes a few hundred ms (10 M events), which a
   * report should not wait for: while requests come, the lake is listed again in the background once half the
   * interval has passed, and a request applies the last listing that finished; it waits only when that listing
   * started more than `minIntervalMs` ago (the first request, or one after a quiet spell). With `force`, or when
   * `minIntervalMs` is 0, the call lists and waits. The days whose rollup files changed are loaded, each table's
   * changed days in one statement.
   */
  async refresh(force = false): Promise<void> {
    const now = Date.now();
    const interval = this.opts.minIntervalMs ?? 1_000;
    if (force || interval === 0) {
      await this.settle(this.startListing(now));
      return;
    }
    const done = this.finishedListing;
    if (done && !('error' in done) && done.seq > this.appliedListing) {
      this.finishedListing = null;
      await this.apply(done.listed, done.seq, done.start);
    }
    if (this.inFlight === null && now - this.lastList >= interval / 2) this.startListing(now);
    if (now - this.appliedStart > interval) await this.settle(this.inFlight ?? this.startListing(now));
  }

  /** Starts listing the lake (the listing `seq`-th started); its result is kept when it finishes. */
  private startListing(now: number): { seq: number; done: Promise<void> } {
    this.lastList = now;
    const seq = ++this.listingSeq;
    const done = listLake(this.opts.lakeDir).then(
      (listed) => {
        if (!this.finishedListing || this.finishedListing.seq < seq) this.finishedListing = { seq, start: now, listed };
      },
      (error: unknown) => {
        if (!this.finishedListing || this.finishedListing.seq < seq) this.finishedListing = { seq, start: now, error };
      },
    );
    const flight = { seq, done };
    this.inFlight = flight;
    void done.then(() => {
      if (this.inFlight === flight) this.inFlight = null;
    });
    return flight;
  }

  /** Waits for a listing and applies it (or a newer one that finished meanwhile); a failed listing throws. */
  private async settle(flight: { seq: number; done: Promise<void> }): Promise<void> {
    await flight.done;
    const done = this.finishedListing;
    if (!done || done.seq < flight.seq) return;
    this.finishedListing = null;
    if ('error' in done) throw done.error;
    if (done.seq > this.appliedListing) await this.apply(done.listed, done.seq, done.start);
  }

  /** Loads what a listing shows changed (the listing `seq`-th started, at `start`). */
  private async apply(listed: Listed, seq: number, start: number): Promise<void> {
    this.appliedListing = seq;
    this.appliedStart = start;
    this.listed = listed;
    const changed = new Map<RollupTable['name'], { dts: string[]; files: string[]; parts: [string, string][] }>();
    const note = (table: RollupTable['name'], dt: string, files: string[], part: string, signature: string) => {
      const c = changed.get(table) ?? { dts: [], files: [], parts: [] };
      c.dts.push(dt);
      c.files.push(...files);
      c.parts.push([part, signature]);
      changed.set(table, c);
    };
    for (const [part, e] of this.listed.rollups) {
      if (this.loaded.get(part) !== e.signature) note(e.table, e.dt, [e.file], part, e.signature);
    }
    for (const part of this.loaded.keys()) {
      if (!this.listed.rollups.has(part)) {
        const [table, dt] = part.split('/') as [RollupTable['name'], string];
        note(table, dt, [], part, '');
      }
    }
    this.lastReloaded = [...changed.values()].flatMap((c) => c.parts.map(([p]) => p)).sort();
    for (const t of ROLLUP_TABLES) {
      const c = changed.get(t.name);
      if (c) await this.reload(t, c.dts, c.files, c.parts);
    }
    if (changed.size > 0) {
      this.currentDigest = this.loadedDigest();
      await this.queueDerived(changed.get('daily')?.dts ?? [], changed.get('pairs')?.dts ?? []);
    }
    this.ready = new Set();
    for (const day of this.listed.fresh) {
      if (this.loaded.get(`daily/${day}`) === this.listed.rollups.get(`daily/${day}`)?.signature) this.ready.add(day);
    }
  }

  /** Replaces the rows of `dts` in one rollup table with those of `files`, and records what it now holds. */
  private async reload(t: RollupTable, dts: string[], files: string[], parts: [string, string][]): Promise<void> {
    const conn = this.connection;
    const cols = t.columns.map(([n]) => n).join(', ');
    await conn.run('BEGIN TRANSACTION');
    try {
      await conn.run(`DELETE FROM rollup_${t.name} WHERE dt IN (${dts.map(sqlString).join(', ')})`);
      if (files.length > 0) {
        // Paths come from the listing, never from a request; quoted as SQL strings all the same.
        await conn.run(
          `INSERT INTO rollup_${t.name}
           SELECT ${cols}, regexp_extract(filename, 'dt=(\\d{4}-\\d{2}-\\d{2})', 1) AS dt
           FROM read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = false, union_by_name = true, filename = true)`,
        );
      }
      for (const [part, signature] of parts) {
        await conn.run(`DELETE FROM _rollup_files WHERE part = ${sqlString(part)}`);
        if (signature) {
          await conn.run(`INSERT INTO _rollup_files VALUES (${sqlString(part)}, ${sqlString(signature)})`);
        }
      }
      await conn.run('COMMIT');
    } catch (err) {
      await conn.run('ROLLBACK');
      throw err;
    }
    for (const [part, signature] of parts) {
      if (signature) this.loaded.set(part, signature);
      else this.loaded.delete(part);
    }
  }

  /** Whether a day (UTC midnight, ms) is rolled up and not stale (as of the last refresh). */
  rolledUp(day: number): boolean {
    return this.ready.has(dayText(day));
  }

  /**
   * A key of what one rollup table holds for `days` (`YYYY-MM-DD`): each day with the build loaded for it, or `-`
   * when the day is not rolled up and fresh. An answer computed from those rows may be kept while the key is the same.
   */
  rollupBuilds(table: RollupTable['name'], days: readonly string[]): string {
    return days.map((d) => `${d}=${this.ready.has(d) ? (this.loaded.get(`${table}/${d}`) ?? '-') : '-'}`).join(',');
  }

  /** The first day (UTC midnight, ms) whose raw events are kept; null when raw events are kept for ever. */
  rawKeptFrom(): number | null {
    const days = this.opts.rawRetentionDays;
    if (days === null || days === undefined) return null;
    const now = this.opts.now?.() ?? Date.now();
    return Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS;
  }

  /**
   * The raw event files of the hour partitions the ranges touch, as of the last listing, by folder, and a key of
   * them: each partition with its files' names, sizes and versions. The key changes when a file arrives, is replaced
   * (compaction) or rewritten (erasure), so an answer computed from these files may be kept while the key is the same.
   */
  rawFiles(ranges: readonly { from: number; to: number }[]): { folders: Map<string, string[]>; key: string } {
    const folders = new Map<string, string[]>();
    const versions: string[] = [];
    for (const r of ranges) {
      for (const p of hourPartitions(r.from, r.to)) {
        const e = this.listed.raw.get(p);
        if (e && !folders.has(e.folder)) {
          folders.set(e.folder, e.names);
          versions.push(p, ...e.versions);
        }
      }
    }
    return { folders, key: versions.join('|') };
  }

  /**
   * The raw files' schemas kept between view definitions, each under its file's version as listed (size and
   * modification time): defining a view over hundreds of files reads no footer it has read before, and a file
   * rewritten under its name (an erasure) is read again. Entries of files no longer listed are dropped once they
   * outnumber the listed files.
   */
  private schemaCache(): FileSchemaCache {
    const versions = new Map<string, string>();
    let listed = 0;
    for (const e of this.listed.raw.values()) {
      listed += e.names.length;
      for (const [i, n] of e.names.entries()) versions.set(join(e.folder, n), e.versions[i]!);
    }
    if (this.schemas.size > 2 * listed + 64) {
      for (const k of this.schemas.keys()) {
        const [file, version] = k.split('\n') as [string, string];
        if (versions.get(file) !== version) this.schemas.delete(k);
      }
    }
    const key = (file: string) => {
      const v = versions.get(file);
      return v === undefined ? null : `${file}\n${v}`;
    };
    return {
      get: (file) => {
        const k = key(file);
        return k === null ? undefined : this.schemas.get(k);
      },
      set: (file, schema) => {
        const k = key(file);
        if (k !== null) this.schemas.set(k, schema);
      },
    };
  }

  /**
   * Runs `task` with `events` (and `events_raw`) defined over the raw files of the hour partitions the ranges touch,
   * deduplicated as the lake's view is. A file listed a moment ago may be gone when read (compaction replaced it):
   * the lake is listed again and the task run again (up to twice), which reads what replaced it.
   */
  async withRawEvents<T>(ranges: readonly { from: number; to: number }[], task: () => Promise<T>): Promise<T> {
    this.lastRawRanges = ranges.map((r) => ({ from: r.from, to: r.to }));
    for (let attempt = 0; ; attempt++) {
      const { folders, key } = this.rawFiles(ranges);
      // The views stay defined between requests: defined again only when the files or their versions differ (an
      // erasure rewrites a file under its name); reading the schemas and looking for duplicates costs more than a
      // small report.
      try {
        if (key !== this.viewKey) {
          this.viewKey = null;
          await defineEventsViews(this.connection, folders, { temp: true, schemas: this.schemaCache() });
          this.viewKey = key;
        }
        return await task();
      } catch (err) {
        this.viewKey = null;
        const gone = [...folders].some(([folder, names]) => names.some((n) => !existsSync(join(folder, n))));
        if (attempt >= 2 || !gone) throw err;
        await this.refresh(true);
      }
    }
  }

  /** The rows each rollup table holds, and how many raw events the engine holds (none: they are read per request). */
  async held(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of ROLLUP_TABLES) {
      const r = await this.connection.runAndReadAll(`SELECT count(*) AS n FROM rollup_${t.name}`);
      out[t.name] = Number(r.getRowObjectsJS()[0]!.n);
    }
    const tables = await this.connection.runAndReadAll(
      "SELECT count(*) AS n FROM duckdb_tables() WHERE NOT starts_with(table_name, 'rollup_') AND table_name NOT IN ('_rollup_files', '_derived_state', '_dup_keep')",
    );
    out.otherTables = Number(tables.getRowObjectsJS()[0]!.n);
    return out;
  }

  close(): void {
    this.closed = true;
    this.derivedConnection?.interrupt();
    this.derivedConnection?.closeSync();
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
