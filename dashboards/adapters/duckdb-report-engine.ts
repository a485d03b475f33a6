import type { DuckDBConnection } from '@duckdb/node-api';
import type { LakeDb } from '../../queries/duckdb-lake';
import { duckTimestamp } from '../../queries/duckdb-lake';
import { NAMED_QUERIES, type NamedQuery, oneTenant } from '../../queries/named-queries';
import type { ReportEngine, ReportInfo, ReportParams, ReportResult } from '../api/ports';
import { BadRequestError } from '../errors';
import { drillDownBasis, rollupRenderings, rollupValues, splitAggregatePeriod } from '../report-split';
import { drillDownRanges } from './duckdb-drill-down-hours';
import type { DuckDbReportsStore } from './duckdb-reports-store';
import { WHOLE_DAY_RENDERINGS } from './duckdb-rollup-derived';
import { createSerialQueue, plainRow } from './serial-lake';

export interface DuckDbReportEngineOptions {
  /** queries/'s registry (default NAMED_QUERIES): each report runs its one definition (the one Athena runs too). */
  registry?: ReadonlyMap<string, NamedQuery>;
  /** The reports answered from rollups and their renderings (default: the registry's, `NamedQuery.rollup`). */
  rollups?: ReadonlyMap<string, NamedQuery>;
  serial?: <T>(task: () => Promise<T>) => Promise<T>;
  /**
   * The reports answered from the store's derived tables when a period is whole days only (default:
   * duckdb-rollup-derived.ts's; an empty map: always the rollup renderings).
   */
  wholeDays?: ReadonlyMap<string, NamedQuery>;
  /** How many of the newest rolled-up days a newest-first drill-down looks at first (duckdb-drill-down-hours.ts). */
  drillDownRecentDays?: number;
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

/** The reports a registry offers, as the router lists them. */
function infosOf(registry: ReadonlyMap<string, NamedQuery>): ReportInfo[] {
  return [...registry.values()].map((q) => ({
    name: q.name,
    description: q.description,
    requires: q.params.some((s) => s.name === 'message_id' && s.required) ? (['message_id'] as const) : [],
  }));
}

function namedOf(registry: ReadonlyMap<string, NamedQuery>, name: string): NamedQuery {
  const named = registry.get(name);
  if (!named) throw new BadRequestError(`unknown report "${name.slice(0, 64)}"`);
  return named;
}

/** Runs a query with its values bound (the limit too, a validated whole number) and returns plain rows. */
async function runBound(
  connection: DuckDBConnection,
  q: NamedQuery,
  values: Record<string, string | number | null>,
  limit: number,
): Promise<ReportResult> {
  const reader = await connection.runAndReadAll(`SELECT * FROM (${q.sql}) q LIMIT ?`, [
    ...q.bind(values),
    limit,
  ] as never);
  return { columns: reader.columnNames(), rows: reader.getRowObjectsJS().map(plainRow) };
}

/**
 * {@link runBound} for a report without timestamp columns (the metric reports): DuckDB writes each row as JSON and
 * one JSON.parse reads them all, several times faster than converting each value of a large answer (10,000 rows of 21
 * columns) through the client's value objects. The rows are the same: text, booleans and nulls as they are, whole
 * numbers as numbers (as {@link plainRow}'s Number()), doubles in their shortest exact form.
 */
async function runBoundAsJson(
  connection: DuckDBConnection,
  q: NamedQuery,
  values: Record<string, string | number | null>,
  limit: number,
): Promise<ReportResult> {
  if (q.columns.some((c) => c.type === 'timestamp')) return runBound(connection, q, values, limit);
  const reader = await connection.runAndReadAll(
    `SELECT CAST(to_json(q) AS VARCHAR) AS j FROM (SELECT * FROM (${q.sql}) q LIMIT ?) q`,
    [...q.bind(values), limit] as never,
  );
  const json = reader.getColumnsJS()[0] as string[] | undefined;
  return { columns: q.columns.map((c) => c.name), rows: JSON.parse(`[${(json ?? []).join(',')}]`) };
}

/**
 * Reports over a whole lake opened with queries/duckdb-lake.ts (`events` over every file): queries/'s named queries
 * as they are, values bound as parameters. What the CLI and the tests comparing engines run; the dashboards run
 * {@link createDuckDbRollupReportEngine}.
 */
export function createDuckDbReportEngine(lake: LakeDb, opts: DuckDbReportEngineOptions = {}): ReportEngine {
  const registry = opts.registry ?? NAMED_QUERIES;
  const serial = opts.serial ?? createSerialQueue();
  const infos = infosOf(registry);
  return {
    reports: () => infos,
    async run(name: string, params: ReportParams): Promise<ReportResult> {
      const named = namedOf(registry, name);
      return serial(() => runBound(lake.connection, named, namedQueryValues(named, params), params.limit));
    },
  };
}

/**
 * The dashboards' reports engine (docs/dashboards.md "Reports engine"): an aggregate report with a rollup rendering
 * answers its whole rolled-up, non-stale days from the rollup tables the store holds and its edges from the raw
 * events of the hour partitions they touch; every other report (drill-down: bounced recipients, message timeline)
 * reads the raw events of its period's partitions, a newest-first one only the newest hours that hold its rows
 * (./duckdb-drill-down-hours.ts). Each answer says what answered it (`basis`), and when the period
 * reaches before raw retention, that its expired days came from rollups alone (or, for drill-down, that their raw
 * events were deleted).
 */
export function createDuckDbRollupReportEngine(
  store: DuckDbReportsStore,
  opts: DuckDbReportEngineOptions = {},
): ReportEngine {
  const registry = opts.registry ?? NAMED_QUERIES;
  const rollups = opts.rollups ?? rollupRenderings(registry);
  const wholeDayRenderings = opts.wholeDays ?? (opts.rollups ? new Map() : WHOLE_DAY_RENDERINGS);
  const serial = opts.serial ?? createSerialQueue();
  const infos = infosOf(registry);
  return {
    reports: () => infos,
    async run(name: string, params: ReportParams): Promise<ReportResult> {
      const named = namedOf(registry, name);
      const rendering = rollups.get(name);
      return serial(async () => {
        await store.refresh();
        if (!rendering) {
          const basis = drillDownBasis(params.from, params.to, store.rawKeptFrom());
          const values = namedQueryValues(named, params);
          const ranges = await drillDownRanges(store, name, params, values, params.limit, opts.drillDownRecentDays);
          const result = await store.withRawEvents(ranges, () =>
            runBound(store.connection, named, values, params.limit),
          );
          return { ...result, basis };
        }
        const split = splitAggregatePeriod({
          from: params.from,
          to: params.to,
          rolledUp: (d) => store.rolledUp(d),
          rawKeptFrom: store.rawKeptFrom(),
        });
        // Whole days only (no edge, or edges whose hours hold no raw file): the derived tables answer, when the
        // report has a rendering over them.
        const wholeDays =
          split.days && store.derivedCurrent() && store.rawFiles(split.raw).folders.size === 0
            ? wholeDayRenderings.get(name)
            : undefined;
        const general = params.tenant === null ? rendering : oneTenant(rendering);
        const chosen = wholeDays && params.tenant !== null ? oneTenant(wholeDays) : (wholeDays ?? general);
        const values = {
          ...namedQueryValues(chosen, params),
          ...rollupValues(split, duckTimestamp),
        };
        const result = wholeDays
          ? await runBoundAsJson(store.connection, chosen, values, params.limit)
          : await store.withRawEvents(split.raw, () => runBoundAsJson(store.connection, general, values, params.limit));
        return { ...result, basis: split.basis };
      });
    },
  };
}
