import { createHash } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { textKeySql } from './rollups';

/**
 * The Trino rendering hashes with `bitwise_and(from_big_endian_64(reverse(substr(md5(to_utf8(x)), 1, 8))), 2^63-1)`
 * and the DuckDB one with `md5_number_upper(x) & (2^63-1)`. No Trino runs here, and the rollup tests on DuckDB playing
 * Athena substitute the DuckDB expression for the Trino one: this checks the premise of that substitution, that both
 * read the same 8 bytes of the same MD5, by computing the Trino expression's documented semantics in TypeScript
 * (md5 of the UTF-8 bytes; substr of varbinary: bytes 1-8; reverse: byte order reversed; from_big_endian_64: signed
 * 64-bit big-endian; bitwise_and with 2^63-1: the sign bit cleared) against DuckDB's own result.
 */
function trinoKey(text: string): bigint {
  const first8 = createHash('md5').update(Buffer.from(text, 'utf8')).digest().subarray(0, 8);
  const reversed = Buffer.from(first8).reverse();
  return reversed.readBigInt64BE(0) & 0x7fffffffffffffffn;
}

describe('the 63-bit text key is the same in both renderings', () => {
  it('DuckDB md5_number_upper & 2^63-1 equals the Trino expression for ASCII, UTF-8 and long texts', async () => {
    const texts = [
      '',
      'a',
      'r' + 'ann@gmail.com',
      '36:010001a0edge0001|rbob@hotmail.co.uk',
      'rzoë@exämple.de',
      'x'.repeat(500),
    ];
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      for (const t of texts) {
        const sql = `SELECT ${textKeySql('duckdb', '$t')} AS k`;
        const row = (await conn.runAndReadAll(sql, { t } as never)).getRowObjectsJS()[0]!;
        expect(BigInt(row.k as bigint), t).toBe(trinoKey(t));
        expect(BigInt(row.k as bigint) >= 0n).toBe(true);
      }
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
    expect(textKeySql('trino', 'x')).toBe(
      'bitwise_and(from_big_endian_64(reverse(substr(md5(to_utf8(x)), 1, 8))), 9223372036854775807)',
    );
  });
});
