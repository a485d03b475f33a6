import type { QueryRow, QueryScope } from '../run-named-query';
import { getNamedQuery, validateParams } from '../run-named-query';
import type { AthenaResult, AthenaRunner } from './runner';
import { athenaStatement } from './statement';

/**
 * Runs a named query on Athena: the same definition and parameter checks as on the local lake, the tenant from the
 * server's scope, values sent as ExecutionParameters. Rows come back typed as the local runner's (numbers, booleans,
 * ISO 8601 times), so a report reads the same from either.
 */
export async function runNamedQueryOnAthena(
  runner: AthenaRunner,
  name: string,
  raw: Readonly<Record<string, string | undefined>>,
  scope: QueryScope = { tenant: null },
  options: { maxRows?: number } = {},
): Promise<{ rows: QueryRow[]; result: AthenaResult }> {
  const query = getNamedQuery(name);
  const values = validateParams(query, raw, scope);
  const { sql, parameters } = athenaStatement(query, values);
  const result = await runner.run(sql, { parameters, ...(options.maxRows ? { maxRows: options.maxRows } : {}) });
  return { rows: result.rows, result };
}
