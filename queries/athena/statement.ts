import type { NamedQuery, ParamType, ParamValues } from '../named-queries';
import { compileNamed } from '../sql/placeholders';

/**
 * A named query's Trino rendering with its Athena ExecutionParameters (aws-facts §5.3): positional `?` in the SQL
 * and one parameter per `?`, applied in order. Athena reads each parameter as a literal, so a string is written
 * quoted, with any quote inside doubled: the value stays a value whatever it holds.
 */
export interface AthenaStatement {
  sql: string;
  parameters: string[];
}

/** A typed NULL, written in the SQL for a parameter without a value (no NULL is ever sent as a parameter). */
const TYPED_NULL: Record<ParamType, string> = {
  string: 'CAST(NULL AS VARCHAR)',
  // Timestamps are bound as text and cast in the SQL (`CAST(:from AS TIMESTAMP)`), so their NULL is text too.
  timestamp: 'CAST(NULL AS VARCHAR)',
  integer: 'CAST(NULL AS BIGINT)',
};

/** An ExecutionParameters element: a quoted string literal or a whole number. */
export function athenaLiteral(value: string | number, type: ParamType): string {
  if (type === 'integer') {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new Error(`not a whole number: ${value}`);
    return String(value);
  }
  return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * The Trino SQL of a named query for these values: `?` for each present value, a typed NULL for each absent one.
 * Returns the names of the `?` in order (for engines that bind raw values).
 */
export function trinoSql(query: NamedQuery, values: ParamValues): { sql: string; names: string[] } {
  const types = new Map(query.params.map((p) => [p.name, p.type]));
  return compileNamed(query.text('trino'), (name) => {
    const v = values[name];
    return v === null || v === undefined ? TYPED_NULL[types.get(name) ?? 'string'] : null;
  });
}

/** The statement Athena runs for a named query with validated values (see `validateParams`). */
export function athenaStatement(query: NamedQuery, values: ParamValues): AthenaStatement {
  const types = new Map(query.params.map((p) => [p.name, p.type]));
  const { sql, names } = trinoSql(query, values);
  return { sql, parameters: names.map((n) => athenaLiteral(values[n]!, types.get(n) ?? 'string')) };
}
