import { createHash } from 'node:crypto';
import type { AthenaRunner } from '../queries/athena/runner';
import { ErasureStoreError } from './errors';
import type { LakeFileFinder } from './lake-file-finder';
import { sqlString } from './lake-match';

/**
 * The lake's files holding an address, in AWS: `SELECT DISTINCT "$path" FROM <lake table> WHERE …` in Athena (the
 * Glue table over the lake bucket). The query names the recipient by the SHA-256 of its lower-cased text, never by
 * the address: Athena keeps every query's text in its history (and the results bucket keeps the file paths only),
 * so an erasure request does not leave the address it erases behind. Rows of other recipients that quote the
 * address in a text column are found by the local finder only (docs/OPERATIONS.md).
 */
export class AthenaLakeFileFinder implements LakeFileFinder {
  constructor(
    private readonly athena: Pick<AthenaRunner, 'run'>,
    /** The Glue table of the lake's Parquet files (serverless.yml `custom.names.lakeTable`). */
    private readonly table: string,
    /** `s3://<bucket>/`: what "$path" starts with, taken off to give the store's keys. */
    private readonly lakeRoot: string,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new ErasureStoreError(`not a table name: ${table.slice(0, 60)}`);
  }

  /** The SQL run (exported for the tests: the address never appears in it). */
  static sql(table: string, address: string, tenant?: string): string {
    const digest = createHash('sha256').update(address.toLowerCase()).digest('hex').toUpperCase();
    const own = `to_hex(sha256(to_utf8(lower(recipient)))) = ${sqlString(digest)}`;
    return `SELECT DISTINCT "$path" AS path FROM ${table} WHERE ${own}${tenant ? ` AND tenant_id = ${sqlString(tenant)}` : ''}`;
  }

  async find(address: string, tenant?: string): Promise<string[]> {
    const result = await this.athena.run(AthenaLakeFileFinder.sql(this.table, address, tenant));
    const keys: string[] = [];
    for (const row of result.rows) {
      const path = String(row.path ?? '');
      if (!path.startsWith(this.lakeRoot)) {
        throw new ErasureStoreError(`Athena named a file outside the lake (${path.slice(0, 80)})`);
      }
      keys.push(path.slice(this.lakeRoot.length));
    }
    return keys.sort();
  }
}
