import { z } from 'zod';
import { DELIVERY_STATUSES, RECORD_SCHEMA_VERSION, ReportingRecordSchema } from '../../enrich/push/record';

/**
 * The request body of `POST /v1/delivery-records` as the contract states it (docs/reporting-api.openapi.yaml): the
 * documented schema, and what gives a refused body its reason (the path of the first problem, never the value).
 */
export const RecordBatchBodySchema = z.strictObject({
  schema_version: z.literal(RECORD_SCHEMA_VERSION),
  records: z.array(ReportingRecordSchema).min(1),
});

/**
 * The contract's ISO time pattern, taken from the schema itself (`z.iso.datetime({ offset: false, precision: 3 })`:
 * a real calendar date, `T`, hours to milliseconds, `Z`), so the checker below cannot drift from it.
 */
export const ISO_TIME: RegExp = (() => {
  const def = ReportingRecordSchema.shape.status_at.def as { pattern?: unknown };
  if (!(def.pattern instanceof RegExp)) throw new Error('the record schema has no ISO time pattern');
  return def.pattern;
})();
export const RECORD_ID = /^[0-9a-f]{32}$/;
export const STATUSES: ReadonlySet<string> = new Set(DELIVERY_STATUSES);
export const TEXT_MAX = 2048;
/** Most code points of `message_id` and `tenant_id`. */
export const ID_MAX = 256;

export const TIME_FIELDS = [
  'sent_at',
  'delayed_at',
  'delivered_at',
  'first_opened_at',
  'last_opened_at',
  'first_human_opened_at',
  'first_clicked_at',
  'last_clicked_at',
  'rejected_at',
  'bounced_at',
  'complained_at',
] as const;
export const TEXT_FIELDS = [
  'recipient',
  'recipient_domain',
  'campaign_id',
  'message_kind',
  'configuration_set',
  'from_domain',
  'reject_reason',
] as const;
/** Keys of a record, of a bounce and of a complaint: a strict object holds exactly these. */
const RECORD_KEYS = Object.keys(ReportingRecordSchema.shape).length;
const BOUNCE_KEYS = 5;
const COMPLAINT_KEYS = 3;

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Length in code points (a surrogate pair counts once), as the schema's `max` counts a string over its limit. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n--;
      i++;
    }
  }
  return n;
}
export const within = (s: string, max: number): boolean => s.length <= max || codePoints(s) <= max;
const isText = (v: unknown): boolean => v === null || (typeof v === 'string' && within(v, TEXT_MAX));
const isTime = (v: unknown): boolean => typeof v === 'string' && ISO_TIME.test(v);
const isNullableTime = (v: unknown): boolean => v === null || isTime(v);

function keyCount(o: Obj): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
}

/** Why one record breaks the contract (a field name), or null when it keeps it. */
function recordProblem(r: unknown): string | null {
  if (!isObject(r)) return 'not an object';
  if (r.schema_version !== RECORD_SCHEMA_VERSION) return 'schema_version';
  if (typeof r.record_id !== 'string' || !RECORD_ID.test(r.record_id)) return 'record_id';
  const rev = r.revision;
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 1) return 'revision';
  const m = r.message_id;
  if (typeof m !== 'string' || m.length < 1 || !within(m, ID_MAX)) return 'message_id';
  const t = r.tenant_id;
  if (typeof t !== 'string' || t.length < 1 || !within(t, ID_MAX)) return 'tenant_id';
  if (typeof r.status !== 'string' || !STATUSES.has(r.status)) return 'status';
  if (!isTime(r.status_at)) return 'status_at';
  if (!isTime(r.last_event_at)) return 'last_event_at';
  for (const f of TEXT_FIELDS) if (!isText(r[f])) return f;
  for (const f of TIME_FIELDS) if (!isNullableTime(r[f])) return f;
  const b = r.bounce;
  if (b !== null) {
    if (!isObject(b)) return 'bounce';
    if (!isText(b.type) || !isText(b.subtype) || !isText(b.smtp_status) || !isText(b.diagnostic_code)) return 'bounce';
    if (!isTime(b.at) || keyCount(b) !== BOUNCE_KEYS) return 'bounce';
  }
  const c = r.complaint;
  if (c !== null) {
    if (!isObject(c)) return 'complaint';
    if (!isText(c.feedback_type) || !isText(c.subtype) || !isTime(c.at) || keyCount(c) !== COMPLAINT_KEYS) {
      return 'complaint';
    }
  }
  // Every known field was present with a valid value (an absent one reads as undefined and failed above), so any
  // further key is one the contract does not have.
  if (keyCount(r) !== RECORD_KEYS) return 'unknown field';
  return null;
}

export type BodyCheck = { ok: true; records: unknown[] } | { ok: false; index: number | null; problem: string };

/**
 * The request body checked against the contract in one plain pass: the same acceptance as
 * {@link RecordBatchBodySchema} (a test holds the two to it, on valid and invalid records), several times faster than
 * running the schema over every field and time of every record. It says which record and field failed; the server
 * takes the reason it answers from the schema, so a refusal reads the same as before.
 */
export function checkRecordBatchBody(value: unknown): BodyCheck {
  if (!isObject(value)) return { ok: false, index: null, problem: 'not an object' };
  if (value.schema_version !== RECORD_SCHEMA_VERSION) return { ok: false, index: null, problem: 'schema_version' };
  const records = value.records;
  if (!Array.isArray(records) || records.length < 1) return { ok: false, index: null, problem: 'records' };
  if (keyCount(value) !== 2) return { ok: false, index: null, problem: 'unknown field' };
  for (let i = 0; i < records.length; i++) {
    const problem = recordProblem(records[i]);
    if (problem !== null) return { ok: false, index: i, problem };
  }
  return { ok: true, records };
}

/** One line saying what is wrong with a body, with the path of the first problem (never the value). */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid body';
  const path = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
  return `${path || 'body'}: ${issue.message}`.slice(0, 300);
}

/**
 * The 400 reason of a body the checker refused: the schema's own first issue (the documented wording). Should the
 * schema accept what the checker refused (a disagreement the tests rule out), the checker's finding is the reason:
 * a body is never let through on the lenient side.
 */
export function refusalReason(value: unknown, check: Extract<BodyCheck, { ok: false }>): string {
  const parsed = RecordBatchBodySchema.safeParse(value);
  if (!parsed.success) return describeIssues(parsed.error);
  return check.index === null ? `body: ${check.problem}` : `records[${check.index}]: ${check.problem}`;
}

const BODY_PREFIX = Buffer.from(`{"schema_version":${RECORD_SCHEMA_VERSION},"records":[`);
const BODY_SUFFIX = Buffer.from(']}');
const RECORD_HEAD = '{"schema_version":';
const RECORD_SEPARATOR = Buffer.from(`},${RECORD_HEAD}`);

/**
 * Parses a request body from its bytes, as `JSON.parse` of the whole text would. A body written the way sesflow
 * writes it (`{"schema_version":1,"records":[{"schema_version":...},{"schema_version":...}]}`, no spaces) is cut at
 * each `},{"schema_version":` and every record parsed on its own: a JSON text of several hundred KiB is a string
 * V8 must place in its large-object space, which on the benchmark machine costs about 7 ns a byte, twenty times the
 * parse itself. The cut is exact: when every piece parses, the body is by construction the array of those pieces (a
 * JSON string cannot hold the cut's unescaped quote), so the result is what a parse of the whole gives. Any other
 * body, or a piece that does not parse, is parsed whole; throws `SyntaxError` for a body that is not JSON.
 */
export function parseBody(bytes: Buffer): unknown {
  const end = bytes.length - BODY_SUFFIX.length;
  if (
    end > BODY_PREFIX.length &&
    bytes.subarray(0, BODY_PREFIX.length).equals(BODY_PREFIX) &&
    bytes.subarray(end).equals(BODY_SUFFIX) &&
    bytes.subarray(BODY_PREFIX.length, BODY_PREFIX.length + RECORD_HEAD.length).toString('latin1') === RECORD_HEAD
  ) {
    const records: unknown[] = [];
    let start = BODY_PREFIX.length;
    let ok = true;
    while (ok) {
      const cut = bytes.indexOf(RECORD_SEPARATOR, start);
      const last = cut < 0 || cut >= end;
      const stop = last ? end : cut + 1;
      try {
        records.push(JSON.parse(bytes.toString('utf8', start, stop)));
      } catch {
        ok = false;
      }
      if (last) break;
      start = cut + 2;
    }
    if (ok) return { schema_version: RECORD_SCHEMA_VERSION, records };
  }
  return JSON.parse(bytes.toString('utf8'));
}
