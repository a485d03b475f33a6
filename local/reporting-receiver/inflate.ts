import { gunzipSync } from 'node:zlib';

/** Thrown when a body inflates to more than the limit (the code `gunzipSync` gives with `maxOutputLength`). */
export class InflatedTooLarge extends RangeError {
  readonly code = 'ERR_BUFFER_TOO_LARGE';
}

/**
 * Gunzips a body of at most `maxOutput` bytes once inflated, through zlib's public `gunzipSync`: concatenated gzip
 * members are read on, what follows the last member is ignored, a truncated or corrupt body throws zlib's error, and
 * a body over the limit throws {@link InflatedTooLarge} without inflating the rest.
 */
export function gunzipLimited(input: Uint8Array, maxOutput: number): Buffer {
  try {
    return gunzipSync(input, { maxOutputLength: maxOutput });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InflatedTooLarge(`inflated body over ${maxOutput} bytes`);
    }
    throw err;
  }
}
