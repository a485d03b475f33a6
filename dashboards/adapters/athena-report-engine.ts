import { AthenaQueryError, type AthenaRunner, AthenaScanLimitError } from '../../queries/athena/runner';
import { athenaStatement } from '../../queries/athena/statement';
import { NAMED_QUERIES, type NamedQuery, type ParamValues } from '../../queries/named-queries';
import type { ReportEngine, ReportInfo, ReportParams, ReportResult } from '../api/ports';
import { BadRequestError, DashboardError } from '../errors';
import {
  DAY_MS,
  dayText,
  drillDownBasis,
  type PeriodSplit,
  rollupRenderings,
  rollupValues,
  splitAggregatePeriod,
} from '../report-split';

/** Athena could not answer a report: the status says whose move it is (502 failed, 503 cancelled, 504 timed out). */
export class ReportEngineError extends DashboardError {
  override name = 'ReportEngineError';
  constructor(
    message: string,
    override readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One line per failed Athena query, for the operator: the query id and Athena's own reason (never shown to callers). */
export interface AthenaReportFailure {
  report: string;
  queryExecutionId: string | null;
  state: string | null;
  reason: string;
  bytesScanned: number | null;
}

export interface AthenaReportEngineOptions {
  /** The runner (workgroup, result reuse, scan guard, polling, typed results): queries/athena/runner.ts. */
  runner: Pick<AthenaRunner, 'run'>;
  /** The named queries (default queries/'s registry: the same definitions DuckDB runs locally). */
  registry?: ReadonlyMap<string, NamedQuery>;
  /** The reports answered from the rollup tables and their renderings (default: the registry's, `NamedQuery.rollup`). */
  rollups?: ReadonlyMap<string, NamedQuery>;
  /**
   * The days (`YYYY-MM-DD`) between two UTC midnights that are rolled up and not stale (their `daily` rollup newer
   * than every raw file of the day). Absent: no day is, and the aggregate reports read raw events only.
   */
  rolledUpDays?: (fromDay: number, toDay: number) => Promise<ReadonlySet<string>>;
  /** Raw events are kept this many days (the lake's lifecycle rule); older days have rollups only. Null: for ever. */
  rawRetentionDays?: number | null;
  now?: () => number;
  log?: (failure: AthenaReportFailure) => void;
}

/** Athena's and DuckDB's timestamp text for an epoch-ms time: UTC, no zone (`2026-05-01 10:00:00.000`). */
export function timestampText(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * The values of a named query's declared parameters, from the router's validated parameters: the tenant is the
 * server's (a client's own, or the one a compliance user chose, or null for all), times are UTC text, and every
 * parameter the router does not set (campaign, provider, top, event_type) is null, which the definition reads as
 * "no filter" or its default. The same values the DuckDB engine binds.
 */
export function reportValues(q: NamedQuery, p: ReportParams): ParamValues {
  const available: Record<string, string | number | null> = {
    tenant: p.tenant,
    from: timestampText(p.from),
    to: timestampText(p.to),
    message_id: p.messageId ?? null,
  };
  const out: Record<string, string | number | null> = {};
  for (const spec of q.params) out[spec.name] = available[spec.name] ?? null;
  return out;
}

/** The reports a registry offers, as the router lists them (the DuckDB engine lists the same). */
export function reportInfos(registry: ReadonlyMap<string, NamedQuery>): ReportInfo[] {
  return [...registry.values()].map((q) => ({
    name: q.name,
    description: q.description,
    requires: q.params.some((s) => s.name === 'message_id' && s.required) ? (['message_id'] as const) : [],
  }));
}

/**
 * Reports on Athena: an aggregate report with a rollup rendering answers its whole rolled-up days from the Glue
 * tables `rollup_*` and its edges from raw events (the split of the local engine, dashboards/report-split.ts), so
 * a view scans the rollups and at most two partial days of raw events; every other report, each named query's Trino rendering with its values as ExecutionParameters (never in the SQL),
 * run by the Athena runner (workgroup, result reuse, bytes-scanned guard). Rows come back typed from Athena's column
 * types, as the DuckDB engine gives them (numbers, booleans, ISO 8601 times, null), under the same column names, so
 * the UI and the CSV export do not know which engine answered. The row limit is the runner's: results are read up
 * to it and no further (Athena allows `?` only in WHERE, so the limit is not written into the SQL either).
 */
export function createAthenaReportEngine(opts: AthenaReportEngineOptions): ReportEngine {
  const registry = opts.registry ?? NAMED_QUERIES;
  const rollups = opts.rollups ?? rollupRenderings(registry);
  const infos = reportInfos(registry);
  const keptFrom = (): number | null => {
    const days = opts.rawRetentionDays;
    if (days === null || days === undefined) return null;
    return Math.floor((opts.now?.() ?? Date.now()) / DAY_MS) * DAY_MS - days * DAY_MS;
  };
  /** The same split as the local engine: whole rolled-up days from the rollup tables, the edges from raw events. */
  const splitFor = async (params: ReportParams, rawKeptFrom: number | null): Promise<PeriodSplit> => {
    const first = Math.floor(params.from / DAY_MS) * DAY_MS;
    const last = Math.ceil(params.to / DAY_MS) * DAY_MS;
    const ready = opts.rolledUpDays ? await opts.rolledUpDays(first, last) : new Set<string>();
    return splitAggregatePeriod({
      from: params.from,
      to: params.to,
      rolledUp: (d) => ready.has(dayText(d)),
      rawKeptFrom,
    });
  };

  return {
    reports: () => infos,
    async run(name: string, params: ReportParams): Promise<ReportResult> {
      const named = registry.get(name);
      if (!named) throw new BadRequestError(`unknown report "${name.slice(0, 64)}"`);
      if (!Number.isSafeInteger(params.limit) || params.limit < 1) {
        throw new BadRequestError('limit must be a whole number of 1 or more');
      }
      const rendering = rollups.get(name);
      const rawKeptFrom = keptFrom();
      let query = named;
      let values: ParamValues = reportValues(named, params);
      let basis = drillDownBasis(params.from, params.to, rawKeptFrom);
      if (rendering) {
        const split = await splitFor(params, rawKeptFrom);
        query = rendering;
        values = { ...reportValues(rendering, params), ...rollupValues(split, timestampText) };
        basis = split.basis;
      }
      const { sql, parameters } = athenaStatement(query, values);
      try {
        const result = await opts.runner.run(sql, { parameters, maxRows: params.limit });
        return { columns: result.columns.map((c) => c.name), rows: result.rows, basis };
      } catch (err) {
        throw reportError(name, err, opts.log);
      }
    },
  };
}

/** An Athena failure as the caller's one line (with the query id to quote), Athena's reason to the log only. */
function reportError(report: string, err: unknown, log?: (f: AthenaReportFailure) => void): Error {
  if (!(err instanceof AthenaQueryError)) return err instanceof Error ? err : new Error(String(err));
  const d = err.details;
  log?.({
    report,
    queryExecutionId: d.queryExecutionId ?? null,
    state: d.state ?? null,
    reason: err.message,
    bytesScanned: d.bytesScanned ?? null,
  });
  const id = d.queryExecutionId ? ` (Athena query ${d.queryExecutionId})` : '';
  if (err instanceof AthenaScanLimitError) {
    return new BadRequestError(
      `report ${report} would read more data than allowed${id}: narrow from/to or choose a tenant`,
      {
        cause: err,
      },
    );
  }
  if (d.state === 'FAILED') return new ReportEngineError(`report ${report} failed on Athena${id}`, 502, { cause: err });
  if (d.state === 'CANCELLED') {
    // The workgroup's per-query scan cutoff cancels a query that reads too much; so may an operator.
    return new ReportEngineError(
      `report ${report} was cancelled on Athena${id}: it may have read over the workgroup's limit; narrow from/to`,
      503,
      { cause: err },
    );
  }
  if (d.state === 'QUEUED' || d.state === 'RUNNING') {
    return new ReportEngineError(`report ${report} took too long on Athena${id}: try a shorter period`, 504, {
      cause: err,
    });
  }
  return new ReportEngineError(`report ${report} could not be run on Athena${id}`, 502, { cause: err });
}
