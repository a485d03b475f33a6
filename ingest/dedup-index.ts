import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { EventIdSet } from './id-set';

/**
 * The event ids already in a local lake, per partition, so `sesflow ingest` writes each event once and reports
 * duplicates exactly. Duplicates always share a partition (the event time is part of the id), so ids are held per
 * partition, loaded lazily from that partition's Parquet files the first time a row of it is seen.
 *
 * Memory is bounded: past `maxIds`, the least recently used partitions are dropped and reloaded from disk when needed
 * again. A partition whose rows are still buffered by the writer must not be dropped (`evict`'s `keep`), so that every
 * dropped id is on disk to be reloaded.
 */
export class LakeDedupIndex {
  private readonly sets = new Map<string, EventIdSet>();
  private total = 0;
  /** The partition of the last lookup (rows come in runs of one hour): no recency update needed. */
  private lastPrefix: string | undefined;
  private lastSet: EventIdSet | undefined;
  private db: { instance: DuckDBInstance; connection: DuckDBConnection } | undefined;
  /** When each partition was last looked up (a count of lookups): recency for eviction. */
  private readonly used = new Map<string, number>();
  private tick = 0;
  /** Partitions loaded from disk (for the summary and tests). */
  loads = 0;

  constructor(
    private readonly lakeDir: string,
    private readonly maxIds = 2_000_000,
  ) {}

  /** The ids of a partition if they are in memory; otherwise `load` it first. */
  peek(prefix: string): EventIdSet | undefined {
    if (prefix === this.lastPrefix) return this.lastSet;
    const set = this.sets.get(prefix);
    if (set) {
      this.used.set(prefix, ++this.tick);
      this.lastPrefix = prefix;
      this.lastSet = set;
    }
    return set;
  }

  /** Loads a partition's ids from its files (an empty set for a new partition). */
  async load(prefix: string): Promise<EventIdSet> {
    const existing = this.sets.get(prefix);
    if (existing) return existing;
    const dir = join(this.lakeDir, prefix);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.parquet')) : [];
    const set = new EventIdSet();
    if (files.length > 0) {
      const conn = await this.connection();
      const list = files.map((f) => `'${join(dir, f).replaceAll("'", "''")}'`).join(', ');
      const reader = await conn.runAndReadAll(`SELECT DISTINCT event_id FROM read_parquet([${list}])`);
      for (const row of reader.getRows()) set.add(String(row[0]));
      this.loads++;
    }
    this.sets.set(prefix, set);
    this.used.set(prefix, ++this.tick);
    this.total += set.size;
    return set;
  }

  /** Records that an id was added to a partition's set (keeps the memory count). */
  added(n = 1): void {
    this.total += n;
  }

  /** True when the ids held exceed the budget: flush the writer, then call `evict()`. */
  get needsEviction(): boolean {
    return this.total > this.maxIds && this.sets.size > 1;
  }

  /**
   * Drops least recently used partitions until under budget (the newest always stays). `keep` names partitions that
   * must stay (their rows are still buffered, not yet on disk to be reloaded).
   */
  evict(keep: (prefix: string) => boolean = () => false): void {
    for (const prefix of this.byRecency()) {
      if (this.total <= this.maxIds * 0.75 || this.sets.size <= 1) break;
      if (keep(prefix)) continue;
      this.total -= this.sets.get(prefix)!.size;
      this.sets.delete(prefix);
      this.used.delete(prefix);
      if (prefix === this.lastPrefix) this.lastPrefix = this.lastSet = undefined;
    }
  }

  /** The partitions `evict()` would drop, least recently used first (the newest always stays). */
  evictionOrder(): string[] {
    const out: string[] = [];
    let total = this.total;
    let size = this.sets.size;
    for (const prefix of this.byRecency()) {
      if (total <= this.maxIds * 0.75 || size <= 1) break;
      out.push(prefix);
      total -= this.sets.get(prefix)!.size;
      size--;
    }
    return out;
  }

  /** Partitions held, least recently used first. */
  private byRecency(): string[] {
    return [...this.used].sort((a, b) => a[1] - b[1]).map(([prefix]) => prefix);
  }

  private async connection(): Promise<DuckDBConnection> {
    if (!this.db) {
      const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '64MB' });
      this.db = { instance, connection: await instance.connect() };
    }
    return this.db.connection;
  }

  close(): void {
    if (this.db) {
      this.db.connection.closeSync();
      this.db.instance.closeSync();
      this.db = undefined;
    }
  }
}
