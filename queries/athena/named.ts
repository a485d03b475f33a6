import type { QueryRow, QueryScope } from '../run-named-query';
import { getNamedQuery, renderingFor, validateParams } from '../run-named-query';
import type { AthenaResult, AthenaRunner } from './runner';
import { athenaStatement } from './statement';

/**
 * Runs a named query on Athena: the same definition and parameter checks as on the local lake, the tenant from the
 * server's scope, values sent as ExecutionParameters. Rows come back typed as the local runner's (numbers, booleans,
 * ISO 8601 times), so a report reads the same from either. With `scope.wholeDays`, those days are read from the Glue
 * tables `rollup_<table>` over the lake's rollups and only the rest of the period from `events`.
 */
export async function runNamedQueryOnAthena(
  runner: AthenaRunner,
  name: string,
  raw: Readonly<Record<string, string | undefined>>,
  scope: QueryScope = { tenant: null },
  options: { maxRows?: number } = {},
): Promise<{ rows: QueryRow[]; result: AthenaResult }> {
  const query = renderingFor(getNamedQuery(name), scope);
  const values = validateParams(query, raw, scope);
  const { sql, parameters } = athenaStatement(query, values);
  const result = await runner.run(sql, { parameters, ...(options.maxRows ? { maxRows: options.maxRows } : {}) });
  return { rows: result.rows, result };
}
