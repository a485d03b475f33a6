import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipLimited, InflatedTooLarge } from './inflate';

/** What gunzipSync gives (bytes, or the error's code and message). */
function reference(input: Uint8Array, max: number): Buffer | { code: string | undefined; message: string } {
  try {
    return gunzipSync(input, { maxOutputLength: max });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { code: e.code, message: e.message };
  }
}

function limited(input: Uint8Array, max: number): Buffer | { code: string | undefined; message: string } {
  try {
    return gunzipLimited(input, max);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { code: e.code, message: e.message };
  }
}

describe('gunzipLimited: inflating up to a limit, as gunzipSync does', () => {
  const max = 64 * 1024;
  const text = Buffer.from('{"records":[1,2,3]} '.repeat(1000));
  const gz = gzipSync(text);
  const cases: [string, Uint8Array][] = [
    ['a body', gz],
    ['an empty body compressed', gzipSync(Buffer.alloc(0))],
    ['two gzip members', Buffer.concat([gz, gzipSync('tail')])],
    ['trailing bytes after the member', Buffer.concat([gz, Buffer.from('garbage')])],
    ['truncated', gz.subarray(0, gz.length - 10)],
    ['a corrupt checksum', Buffer.concat([gz.subarray(0, gz.length - 8), Buffer.alloc(8)])],
    ['not gzip', text],
    ['no bytes', Buffer.alloc(0)],
    ['exactly the limit', gzipSync(Buffer.alloc(max, 0x20))],
    ['one byte over the limit', gzipSync(Buffer.alloc(max + 1, 0x20))],
    ['far over the limit', gzipSync(Buffer.alloc(10 * max, 0x20))],
  ];

  it('gives the same bytes and the same errors, call after call, whatever came before', () => {
    // Each case after each other one: an error or a large body must leave nothing behind for the next.
    for (const [, before] of cases) {
      for (const [name, input] of cases) {
        limited(before, max);
        const want = reference(input, max);
        const got = limited(input, max);
        if (Buffer.isBuffer(want)) expect(Buffer.isBuffer(got) && got.equals(want), name).toBe(true);
        else if (want.code === 'ERR_BUFFER_TOO_LARGE') expect(got, name).toMatchObject({ code: want.code });
        else expect(got, name).toEqual(want);
      }
    }
  });

  it('throws InflatedTooLarge over the limit', () => {
    expect(() => gunzipLimited(gzipSync(Buffer.alloc(max + 1)), max)).toThrow(InflatedTooLarge);
  });
});
