import { UsageError } from '../lib/errors';
import type { LakeDb } from './duckdb-lake';
import { NAMED_QUERIES, type NamedQuery, type ParamSpec } from './named-queries';
import { checkWholeDays, type WholeDays } from './rollup-split';

export type QueryRow = Record<string, string | number | boolean | null>;

/** What the server decides, never the caller. */
export interface QueryScope {
  /** The tenant a query is limited to (null = every tenant). */
  tenant: string | null;
  /**
   * The whole days read from the rollups (queries/rollup-split.ts `pickWholeDays`), for a query that has a rollup
   * rendering; absent or null: every row from raw events.
   */
  wholeDays?: WholeDays | null;
}

/** The parameter the server fills in from the scope; a caller who passes it gets a usage error. */
export const SCOPE_PARAM = 'tenant';

/** Every parameter the server sets (the tenant, and the whole days of a rollup rendering). */
const SERVER_PARAMS: ReadonlySet<string> = new Set([SCOPE_PARAM, 'day_from', 'day_to']);

/**
 * Validates caller parameters against a query's specs; unknown names and bad values are one-line usage errors.
 * The tenant is not a caller's parameter: it comes from `scope`, which the server sets (a client key's own tenant,
 * the tenant a compliance user chose, the operator's `--tenant`).
 */
export function validateParams(
  query: NamedQuery,
  raw: Readonly<Record<string, string | undefined>>,
  scope: QueryScope = { tenant: null },
): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  const specs = new Map(query.params.map((p) => [p.name, p]));
  for (const name of Object.keys(raw)) {
    if (raw[name] === undefined) continue;
    if (SERVER_PARAMS.has(name)) throw new UsageError(`${name} is set by the server, not by a query parameter`);
    if (!specs.has(name)) throw new UsageError(`${query.name} takes no parameter ${name.slice(0, 40)}`);
  }
  for (const spec of query.params) {
    if (spec.name === SCOPE_PARAM) {
      out[spec.name] = scope.tenant === null ? null : coerce(spec, scope.tenant);
      continue;
    }
    if (spec.name === 'day_from' || spec.name === 'day_to') {
      out[spec.name] = (spec.name === 'day_from' ? scope.wholeDays?.from : scope.wholeDays?.to) ?? null;
      continue;
    }
    const value = raw[spec.name];
    if (value === undefined || value === '') {
      if (spec.required) throw new UsageError(`${query.name} needs --${spec.name}`);
      out[spec.name] = null;
      continue;
    }
    out[spec.name] = coerce(spec, value);
  }
  if (scope.wholeDays && 'day_from' in out) {
    checkWholeDays(out.from as string | null, out.to as string | null, scope.wholeDays);
  }
  return out;
}

/**
 * The rendering a query runs in this scope: its rollup rendering when the server chose whole days and the query has
 * one, else the raw rendering.
 */
export function renderingFor(query: NamedQuery, scope: QueryScope): NamedQuery {
  return scope.wholeDays && query.rollup ? query.rollup : query;
}

/** A date, or a date and time with optional seconds, fraction and zone (UTC when none). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function coerce(spec: ParamSpec, value: string): string | number {
  switch (spec.type) {
    case 'timestamp': {
      // Strict ISO 8601 first: Date.parse alone accepts text such as "x' OR '1'='1" (as 2001-01-01).
      // A time without a zone is UTC, like the lake's times (Date.parse would read it as local time).
      const zoned = value.length > 10 && !/(?:Z|[+-]\d{2}:?\d{2})$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
      const t = ISO_TIME.test(value) ? Date.parse(zoned) : Number.NaN;
      if (Number.isNaN(t)) throw new UsageError(`${spec.name} is not an ISO 8601 time: ${value.slice(0, 40)}`);
      // Timestamps are bound as UTC text without a zone, which DuckDB and Trino both cast to TIMESTAMP.
      return new Date(t).toISOString().replace('T', ' ').replace('Z', '');
    }
    case 'integer': {
      if (!/^-?\d{1,15}$/.test(value)) throw new UsageError(`${spec.name} must be a whole number`);
      return Number(value);
    }
    case 'string':
      if (value.length > 512) throw new UsageError(`${spec.name} is too long`);
      return value;
  }
}

/** Plain JSON values: DuckDB gives bigint for counts and Date for timestamps. */
export function toPlain(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}

export function getNamedQuery(name: string): NamedQuery {
  const q = NAMED_QUERIES.get(name);
  if (!q) throw new UsageError(`unknown query ${name.slice(0, 60)} (known: ${[...NAMED_QUERIES.keys()].join(', ')})`);
  return q;
}

/**
 * Runs a named query on the local lake with bound parameters, limited to the server's tenant scope; with
 * `scope.wholeDays`, those days from the rollup views (see `openLake`) and the rest from raw events.
 */
export async function runNamedQuery(
  db: LakeDb,
  name: string,
  raw: Readonly<Record<string, string | undefined>>,
  scope: QueryScope = { tenant: null },
): Promise<QueryRow[]> {
  const query = renderingFor(getNamedQuery(name), scope);
  const params = validateParams(query, raw, scope);
  const rows = await db.query(query.sql, query.bind(params));
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toPlain(v)])));
}
