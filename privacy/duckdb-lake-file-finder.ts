import { relative, sep } from 'node:path';
import { openLake } from '../queries/duckdb-lake';
import type { LakeFileFinder } from './lake-file-finder';
import { rowHoldsAddressSql } from './lake-match';

/**
 * A local lake's files holding an address: `SELECT DISTINCT _file FROM events_raw WHERE …`, the file path column of
 * the view every local query reads (queries/duckdb-lake.ts), as Athena's `"$path"` is in AWS.
 */
export class DuckDbLakeFileFinder implements LakeFileFinder {
  constructor(private readonly lakeDir: string) {}

  async find(address: string, tenant?: string): Promise<string[]> {
    const lake = await openLake(this.lakeDir);
    try {
      const rows = await lake.query<{ f: string }>(
        `SELECT DISTINCT _file AS f FROM events_raw WHERE ${rowHoldsAddressSql(address, tenant)} ORDER BY 1`,
      );
      return rows.map((r) => relative(this.lakeDir, r.f).split(sep).join('/'));
    } finally {
      lake.close();
    }
  }
}
