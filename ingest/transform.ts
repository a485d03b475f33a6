import { isUtf8 } from 'node:buffer';
import { type NormalisedEvent, type NormaliseOptions, NormaliseProblem, normaliseEvent } from './normalise';
import { parseSesEvent, type RecordForm } from './ses-event-schema';

/**
 * The transform every path shares (the Firehose Lambda, the local Firehose, `sesflow ingest`): raw bytes of one SES
 * record in, normalised rows or a reasoned error out. Never throws for bad input.
 */

/** Firehose refuses records over 1,000 KiB (PutRecordBatch limit, aws-facts §4.8); so do we, with a reason. */
export const MAX_RECORD_BYTES = 1_000 * 1024;

/** Error types name the folder under `errors/` where a failed record lands. */
export const ERROR_TYPES = [
  'invalid-utf8',
  'too-large',
  'parse-failed',
  'not-an-object',
  'unknown-event-type',
  'schema-invalid',
  'invalid-time',
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export type TransformResult =
  | { ok: true; form: RecordForm; rows: NormalisedEvent[] }
  | { ok: false; errorType: ErrorType; reason: string };

function fail(errorType: ErrorType, reason: string): TransformResult {
  return { ok: false, errorType, reason };
}

/** Why JSON.parse refused the text, in one line without the offending text (it may carry addresses). */
function describeJsonError(err: unknown, text: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  const pos = /position (\d+)/.exec(msg)?.[1];
  if (/Unexpected end of JSON input|Unterminated/.test(msg)) return `truncated JSON (${text.length} characters)`;
  return pos ? `invalid JSON at character ${pos}` : 'invalid JSON';
}

/**
 * Transforms one record. `data` is the record's bytes (preferred: UTF-8 is checked) or already-decoded text.
 * A trailing newline (SES adds one per record) is ignored.
 */
export function transformRecord(data: Uint8Array | string, options: NormaliseOptions = {}): TransformResult {
  let text: string;
  if (typeof data === 'string') {
    if (Buffer.byteLength(data, 'utf8') > MAX_RECORD_BYTES) {
      return fail('too-large', `record is ${formatBytes(Buffer.byteLength(data, 'utf8'))}, over the 1,000 KiB limit`);
    }
    text = data;
  } else {
    if (data.byteLength > MAX_RECORD_BYTES) {
      return fail('too-large', `record is ${formatBytes(data.byteLength)}, over the 1,000 KiB limit`);
    }
    if (!isUtf8(data)) return fail('invalid-utf8', 'record is not valid UTF-8');
    text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  }
  return transformValidText(text, options);
}

/**
 * Transforms the text of one record whose bytes are already known to be valid UTF-8 and at most
 * {@link MAX_RECORD_BYTES} long (`sesflow ingest` checks a whole chunk of lines at once): the same result as
 * `transformRecord` of those bytes.
 */
export function transformValidText(text: string, options: NormaliseOptions = {}): TransformResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (text.trim() === '') return fail('parse-failed', 'empty record');
    return fail('parse-failed', describeJsonError(err, text));
  }
  const parsed = parseSesEvent(value);
  if (!parsed.ok) return fail(parsed.problem.errorType, parsed.problem.reason);
  const rows = normaliseEvent(parsed.event, options);
  if (rows instanceof NormaliseProblem) return fail(rows.errorType, rows.reason);
  return { ok: true, form: parsed.event.form, rows };
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** The hive partition of an event time: rows land in the hour the event happened, not when it arrived. */
export function partitionOf(eventTimeMs: number): { dt: string; hour: string } {
  const iso = new Date(eventTimeMs).toISOString();
  return { dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

/**
 * One row as a JSON line, the form the Firehose transform emits (Firehose's Parquet conversion reads newline-separated
 * JSON documents; times are ISO 8601 UTC with milliseconds, which the OpenX JSON SerDe accepts).
 */
export function rowToJsonLine(row: NormalisedEvent): string {
  return `${JSON.stringify({
    ...row,
    event_time: new Date(row.event_time).toISOString(),
    mail_time: row.mail_time === null ? null : new Date(row.mail_time).toISOString(),
  })}\n`;
}

/** An error record as it lands under `errors/<type>/`: the reason, and the original bytes (base64) so nothing is lost. */
export interface ErrorRecord {
  errorType: ErrorType;
  reason: string;
  /** Where the record came from: a file and line, or a Firehose record id. */
  source: string;
  receivedAt: string;
  rawData: string;
}

export function makeErrorRecord(
  result: { errorType: ErrorType; reason: string },
  raw: Uint8Array | string,
  source: string,
  receivedAt = new Date(),
): ErrorRecord {
  const bytes =
    typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return {
    errorType: result.errorType,
    reason: result.reason,
    source,
    receivedAt: receivedAt.toISOString(),
    rawData: bytes.toString('base64'),
  };
}
