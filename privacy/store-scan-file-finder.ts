import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { LAKE_PREFIX } from '../ingest/lake-schema';
import type { LakeStore } from '../ingest/lake-store';
import type { LakeFileFinder } from './lake-file-finder';
import { inspectParquetFile } from './parquet-rewrite';

/**
 * The files holding an address in a lake store no query engine reads (the local stack's S3 lake on fauxqs): every
 * events file is read and looked into. In AWS, Athena's `"$path"` does this (AthenaLakeFileFinder).
 */
export class StoreScanFileFinder implements LakeFileFinder {
  constructor(private readonly lake: LakeStore) {}

  async find(address: string, tenant?: string): Promise<string[]> {
    const dir = mkdtempSync(join(tmpdir(), 'sesflow-find-'));
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await instance.connect();
    const out: string[] = [];
    try {
      for (const key of await this.lake.list(LAKE_PREFIX.events)) {
        if (!key.endsWith('.parquet')) continue;
        const file = join(dir, 'f.parquet');
        writeFileSync(file, await this.lake.get(key));
        if ((await inspectParquetFile(conn, file, address, tenant)).holdingRows > 0) out.push(key);
      }
      return out;
    } finally {
      conn.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
