import type { LakeDb } from '../../queries/duckdb-lake';
import { duckTimestamp } from '../../queries/duckdb-lake';
import { NAMED_QUERIES, type NamedQuery } from '../../queries/named-queries';
import type { ReportEngine, ReportInfo, ReportParams, ReportResult } from '../api/ports';
import { BadRequestError } from '../errors';
import type { DuckDbLakeCache } from './duckdb-lake-cache';
import { createSerialQueue, plainRow } from './serial-lake';

export interface DuckDbReportEngineOptions {
  /** queries/'s registry (default NAMED_QUERIES): each report runs its one definition (the one Athena runs too). */
  registry?: ReadonlyMap<string, NamedQuery>;
  serial?: <T>(task: () => Promise<T>) => Promise<T>;
  cache?: DuckDbLakeCache | null;
}

/** The values a named query's declared parameters take, from the router's validated parameters. */
export function namedQueryValues(q: NamedQuery, p: ReportParams): Record<string, string | number | null> {
  const available: Record<string, string | number | null> = {
    tenant: p.tenant,
    from: duckTimestamp(p.from),
    to: duckTimestamp(p.to),
    message_id: p.messageId ?? null,
    limit: p.limit,
  };
  const out: Record<string, string | number | null> = {};
  for (const spec of q.params) out[spec.name] = available[spec.name] ?? null;
  return out;
}

/**
 * Reports on the local lake with DuckDB (the local stand-in for Athena), values bound as parameters: queries/'s
 * named queries (the same definitions Athena runs). With a cache, tenant-summary and
 * daily-timeseries are answered from the cache's per-day aggregates when the period holds a whole day.
 */
export function createDuckDbReportEngine(lake: LakeDb, opts: DuckDbReportEngineOptions = {}): ReportEngine {
  const registry = opts.registry ?? NAMED_QUERIES;
  const serial = opts.serial ?? createSerialQueue();
  const cache = opts.cache ?? null;
  const infos: ReportInfo[] = [
    ...[...registry.values()].map((q) => ({
      name: q.name,
      description: q.description,
      requires: q.params.some((s) => s.name === 'message_id' && s.required) ? (['message_id'] as const) : [],
    })),
  ];

  function statement(name: string, params: ReportParams): { sql: string; values: unknown[] } {
    const named = registry.get(name);
    if (!named) throw new BadRequestError(`unknown report "${name}"`);
    // The limit is a validated whole number, bound like every value.
    return {
      sql: `SELECT * FROM (${named.sql}) q LIMIT ?`,
      values: [...named.bind(namedQueryValues(named, params)), params.limit],
    };
  }

  return {
    reports: () => infos,
    async run(name: string, params: ReportParams): Promise<ReportResult> {
      const { sql, values } = statement(name, params);
      return serial(async () => {
        await cache?.refresh();
        // tenant-summary and daily-timeseries from the cache's per-day aggregates (same rows, same figures).
        const fast = cache ? await cache.report(name, params) : null;
        if (fast) return fast;
        const reader = await lake.connection.runAndReadAll(sql, values as never);
        return { columns: reader.columnNames(), rows: reader.getRowObjectsJS().map(plainRow) };
      });
    },
  };
}
