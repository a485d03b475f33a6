import type { LakeDb } from '../../queries/duckdb-lake';
import type { ReportEngine, ReportInfo, ReportParams, ReportResult } from '../api/ports';
import { BadRequestError } from '../errors';
import { CACHE_TABLE, type DuckDbLakeCache } from './duckdb-lake-cache';
import { bindLocalReport, LOCAL_REPORTS, type LocalReport } from './local-report-catalog';
import { createSerialQueue, plainRow } from './serial-lake';

/**
 * Reports on the local lake with DuckDB (the local stand-in for Athena), values bound as parameters. With a cache,
 * reports read its table (kept up to date with the lake's files) instead of the `events` view.
 */
export function createDuckDbReportEngine(
  lake: LakeDb,
  catalog: readonly LocalReport[] = LOCAL_REPORTS,
  serial = createSerialQueue(),
  cache: DuckDbLakeCache | null = null,
): ReportEngine {
  const infos: ReportInfo[] = catalog.map(({ name, description, requires }) => ({ name, description, requires }));
  return {
    reports: () => infos,
    async run(name: string, params: ReportParams): Promise<ReportResult> {
      const report = catalog.find((r) => r.name === name);
      if (!report) throw new BadRequestError(`unknown report "${name}"`);
      const { sql, values } = bindLocalReport(report, params, cache ? CACHE_TABLE : 'events');
      return serial(async () => {
        await cache?.refresh();
        const reader = await lake.connection.runAndReadAll(sql, values as never);
        return { columns: reader.columnNames(), rows: reader.getRowObjectsJS().map(plainRow) };
      });
    },
  };
}
