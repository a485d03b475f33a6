import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { LAKE_COLUMNS } from '../../ingest/lake-schema';
import { ROLLUP_TABLES } from '../rollups';
import { eventsViewDdl } from './ddl';

/**
 * DuckDB playing Athena over a local lake, as close to Athena as it gets: a table laid out as the Glue table (lake
 * columns, the partition columns `dt` and `hour` from the path, and Athena's hidden `"$path"`), the Athena view
 * created by running its DDL text unchanged over it, and, with `rollups`, the Glue-shaped rollup tables (every rollup
 * file, `dt` from the path). The schema `sesflow` is the current one.
 */
export async function athenaOnDuckDb(
  lakeDir: string,
  options: { rollups?: boolean } = {},
): Promise<{ instance: DuckDBInstance; athena: DuckDBConnection }> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const athena = await instance.connect();
  const glob = join(lakeDir, 'events', '**', '*.parquet').replaceAll("'", "''");
  await athena.run('CREATE SCHEMA sesflow');
  await athena.run(
    `CREATE TABLE sesflow.events_raw AS SELECT ${LAKE_COLUMNS.join(', ')}, dt, hour, filename AS "$path"
     FROM read_parquet('${glob}', hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hour': VARCHAR}, filename = true)`,
  );
  await athena.run(eventsViewDdl({ database: 'sesflow', bucket: 'lake-bucket', firstDay: '2026-01-01' }));
  for (const t of options.rollups ? ROLLUP_TABLES : []) {
    const files = join(lakeDir, 'rollups', t.name, '*', '*.parquet').replaceAll("'", "''");
    await athena.run(
      `CREATE TABLE sesflow.rollup_${t.name} AS SELECT *
       FROM read_parquet('${files}', hive_partitioning = true, hive_types = {'dt': VARCHAR})`,
    );
  }
  await athena.run("SET schema = 'sesflow'");
  return { instance, athena };
}
