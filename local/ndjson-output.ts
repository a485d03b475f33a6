import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Counts reported while writing: records written and Send records seen (one per message). */
export interface WriteProgress {
  records: number;
  messages: number;
  bytes: number;
}

/**
 * Writes records as NDJSON (one JSON document and a newline each, as SES writes to Firehose), honouring
 * backpressure. `onProgress` is called every `progressEvery` records and once at the end.
 */
export async function writeNdjson(
  records: Iterable<Record<string, unknown>>,
  out: Writable,
  onProgress?: (p: WriteProgress) => void,
  progressEvery = 5000,
): Promise<WriteProgress> {
  const p: WriteProgress = { records: 0, messages: 0, bytes: 0 };
  let chunk = '';
  for (const r of records) {
    chunk += `${JSON.stringify(r)}\n`;
    p.records++;
    if (r.eventType === 'Send') p.messages++;
    if (chunk.length >= 256 * 1024) {
      p.bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
    if (onProgress && p.records % progressEvery === 0) onProgress(p);
  }
  if (chunk) {
    p.bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  onProgress?.(p);
  return p;
}

/** A one-line progress bar for a TTY: `[#####.....]  45%  123,456 records`. */
export function formatProgressBar(done: number, total: number, suffix: string, width = 30): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%  ${suffix}`;
}
