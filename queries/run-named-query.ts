import { UsageError } from '../lib/errors';
import type { LakeDb } from './duckdb-lake';
import { NAMED_QUERIES, type NamedQuery, type ParamSpec } from './named-queries';

export type QueryRow = Record<string, string | number | boolean | null>;

/** What the server decides, never the caller: the tenant a query is limited to (null = every tenant). */
export interface QueryScope {
  tenant: string | null;
}

/** The parameter the server fills in from the scope; a caller who passes it gets a usage error. */
export const SCOPE_PARAM = 'tenant';

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
    if (name === SCOPE_PARAM) throw new UsageError(`${SCOPE_PARAM} is set by the server, not by a query parameter`);
    if (!specs.has(name)) throw new UsageError(`${query.name} takes no parameter ${name.slice(0, 40)}`);
  }
  for (const spec of query.params) {
    if (spec.name === SCOPE_PARAM) {
      out[spec.name] = scope.tenant === null ? null : coerce(spec, scope.tenant);
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
  return out;
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

/** Runs a named query on the local lake with bound parameters, limited to the server's tenant scope. */
export async function runNamedQuery(
  db: LakeDb,
  name: string,
  raw: Readonly<Record<string, string | undefined>>,
  scope: QueryScope = { tenant: null },
): Promise<QueryRow[]> {
  const query = getNamedQuery(name);
  const params = validateParams(query, raw, scope);
  const rows = await db.query(query.sql, query.bind(params));
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toPlain(v)])));
}
