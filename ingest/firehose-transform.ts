import type {
  FirehoseTransformationEvent,
  FirehoseTransformationResult,
  FirehoseTransformationResultRecord,
} from 'aws-lambda';
import type { NormaliseOptions } from './normalise';
import { partitionOf, rowToJsonLine, transformRecord } from './transform';

/**
 * Lambda synchronous responses are capped at 6 MB (aws-facts §4.1). Normalised rows are larger than the SES record
 * for multi-recipient mail, so the response is budgeted below the cap; records past the budget come back
 * `ProcessingFailed` (reason `response-budget`) and land under the error prefix, whence they can be replayed.
 * With the processor buffer at 1 MB (serverless.yml) the budget is never reached in practice.
 */
export const RESPONSE_BUDGET_BYTES = 5.5 * 1024 * 1024;

/** What one batch did, for the one log line the handler writes. */
export interface TransformStats {
  records: number;
  ok: number;
  failed: number;
  rows: number;
  failures: { recordId: string; errorType: string; reason: string }[];
}

/**
 * The Firehose transformation contract: every recordId comes back exactly once, data is base64, each row ends with a
 * newline, `metadata.partitionKeys` carries dt/hour from the event's own time. A record that cannot be processed is
 * `ProcessingFailed` (never `Dropped`); its data is a JSON envelope with the reason and the original bytes.
 */
export function transformFirehoseBatch(
  event: FirehoseTransformationEvent,
  options: NormaliseOptions = {},
): { result: FirehoseTransformationResult; stats: TransformStats } {
  const stats: TransformStats = { records: event.records.length, ok: 0, failed: 0, rows: 0, failures: [] };
  let budget = RESPONSE_BUDGET_BYTES;
  const records: FirehoseTransformationResultRecord[] = event.records.map((rec) => {
    const raw = Buffer.from(rec.data, 'base64');
    const t = transformRecord(raw, options);
    let out: FirehoseTransformationResultRecord;
    if (t.ok) {
      const data = Buffer.from(t.rows.map(rowToJsonLine).join(''), 'utf8').toString('base64');
      const first = t.rows[0];
      const part = partitionOf(first ? first.event_time : rec.approximateArrivalTimestamp);
      out = { recordId: rec.recordId, result: 'Ok', data, metadata: { partitionKeys: part } };
    } else {
      out = failed(rec.recordId, t.errorType, t.reason, rec.data);
    }
    const size = (out.data?.length ?? 0) + 200;
    if (size > budget && out.result === 'Ok') {
      out = failed(rec.recordId, 'response-budget', 'response would exceed the 6 MB Lambda limit', rec.data);
    }
    budget -= (out.data?.length ?? 0) + 200;
    if (out.result === 'Ok') {
      stats.ok++;
      stats.rows += t.ok ? t.rows.length : 0;
    } else {
      stats.failed++;
      stats.failures.push({
        recordId: rec.recordId,
        errorType: t.ok ? 'response-budget' : t.errorType,
        reason: t.ok ? 'response budget' : t.reason,
      });
    }
    return out;
  });
  return { result: { records }, stats };
}

function failed(recordId: string, errorType: string, reason: string, originalBase64: string) {
  const envelope = JSON.stringify({ errorType, reason, rawData: originalBase64 });
  return {
    recordId,
    result: 'ProcessingFailed' as const,
    data: Buffer.from(`${envelope}\n`, 'utf8').toString('base64'),
  };
}
