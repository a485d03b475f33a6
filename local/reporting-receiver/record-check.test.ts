import { describe, expect, it } from 'vitest';
import { ReportingRecordSchema } from '../../enrich/push/record';
import { syntheticRecords } from '../../enrich/push/test-events';
import { checkRecordBatchBody, describeIssues, parseBody, RecordBatchBodySchema, refusalReason } from './record-check';
import { scanRecordBatch } from './record-scan';
import { idOfWords } from './record-table';

type Obj = Record<string, unknown>;

const valid = syntheticRecords(7, { prefix: 'chk' }) as unknown as Obj[];
const withBounce = valid.find((r) => r.bounce !== null)!;
const withComplaint = valid.find((r) => r.complaint !== null)!;

/** Times the contract's pattern accepts, and near misses it refuses. */
const GOOD_TIMES = ['2024-02-29T23:59:59.999Z', '2000-02-29T00:00:00.000Z', '2026-12-31T00:00:00.000Z'];
const BAD_TIMES = [
  '2026-02-29T00:00:00.000Z',
  '1900-02-29T00:00:00.000Z',
  '2026-04-31T00:00:00.000Z',
  '2026-05-01T24:00:00.000Z',
  '2026-05-01T10:60:00.000Z',
  '2026-05-01T10:00:00Z',
  '2026-05-01T10:00:00.0000Z',
  '2026-05-01T10:00:00.000+00:00',
  '2026-05-01T10:00:00.000z',
  '2026-05-01 10:00:00.000Z',
  ' 2026-05-01T10:00:00.000Z',
  '2026-05-01T10:00:00.000Z\n',
  '',
  1_777_629_600_000,
];
const WRONG_TYPES: unknown[] = [undefined, 0, 1.5, true, [], {}, 'x'];

/**
 * The record's fields by what the contract's schema takes, read from the schema rather than the checker under test:
 * times (a good ISO time, never plain text) and nullable texts.
 */
const SHAPE: Record<string, { safeParse(v: unknown): { success: boolean } }> = ReportingRecordSchema.shape;
const takes = (field: string, value: unknown) => SHAPE[field]!.safeParse(value).success;
const TIMES = Object.keys(SHAPE).filter((f) => takes(f, GOOD_TIMES[0]) && !takes(f, 'x'));
const TEXTS = Object.keys(SHAPE).filter((f) => takes(f, null) && takes(f, 'x'));

/** Each case: a name and a record (or body) made from a valid one. */
function recordCases(): [string, Obj][] {
  const cases: [string, Obj][] = [];
  const base = valid[0]!;
  const set = (name: string, field: string, value: unknown, from: Obj = base) => {
    const r = { ...from };
    if (value === undefined) delete r[field];
    else r[field] = value;
    const shown = JSON.stringify(value) ?? 'absent';
    cases.push([
      `${name}: ${field} = ${shown.length > 40 ? `${shown.slice(0, 30)}... (${shown.length} chars)` : shown}`,
      r,
    ]);
  };
  for (const r of valid) cases.push([`valid ${r.status}`, r]);
  for (const f of Object.keys(base)) {
    set('absent', f, undefined);
    set('null', f, null);
    for (const v of WRONG_TYPES) set('type', f, v);
  }
  for (const f of TIMES) {
    for (const t of GOOD_TIMES) set('good time', f, t);
    for (const t of BAD_TIMES) set('bad time', f, t);
  }
  for (const f of TEXTS) {
    set('text at limit', f, 'a'.repeat(2048));
    set('text over limit', f, 'a'.repeat(2049));
    set('text of astral characters at limit (2048 code points)', f, '😀'.repeat(2048));
    set('text of astral characters over limit', f, `${'😀'.repeat(2048)}a`);
    set('empty text', f, '');
  }
  for (const f of ['message_id', 'tenant_id']) {
    set('id at limit', f, 'm'.repeat(256));
    set('id over limit', f, 'm'.repeat(257));
    set('id of astral characters at limit', f, '😀'.repeat(256));
    set('id of astral characters over limit', f, `${'😀'.repeat(256)}m`);
    set('id with a lone surrogate over limit', f, `${'\ud800'.repeat(257)}`);
    set('empty id', f, '');
  }
  for (const v of [0, -1, 1, 2 ** 53, 2 ** 53 - 1, 1e300, 2.5, '3']) set('revision', 'revision', v);
  for (const v of [2, '1', 1.0]) set('schema', 'schema_version', v);
  for (const v of ['4F8F0348D24F97A4EA7981007A6F470B', 'abc', `${base.record_id}0`, 'g'.repeat(32)]) {
    set('record id', 'record_id', v);
  }
  for (const v of ['DELIVERED', 'exploded', 'toString', '']) set('status', 'status', v);
  set('unknown field', '__proto__x', 1);
  cases.push(['a __proto__ own key', JSON.parse(`${JSON.stringify(base).slice(0, -1)},"__proto__":{}}`) as Obj]);
  const bounce = withBounce.bounce as Obj;
  for (const f of Object.keys(bounce)) {
    for (const v of [undefined, null, 5, 'x'.repeat(2049), '2026-02-30T00:00:00.000Z']) {
      set(`bounce.${f}`, 'bounce', { ...bounce, [f]: v }, withBounce);
    }
  }
  set('bounce extra key', 'bounce', { ...bounce, extra: null }, withBounce);
  set('bounce as array', 'bounce', [bounce], withBounce);
  const complaint = withComplaint.complaint as Obj;
  for (const f of Object.keys(complaint)) {
    for (const v of [undefined, null, 5, 'x'.repeat(2049), '2026-13-01T00:00:00.000Z']) {
      set(`complaint.${f}`, 'complaint', { ...complaint, [f]: v }, withComplaint);
    }
  }
  set('complaint extra key', 'complaint', { ...complaint, extra: null }, withComplaint);
  set('complaint shaped like a bounce', 'complaint', bounce, withComplaint);
  return cases;
}

const bodyOf = (records: unknown[]): Obj => ({ schema_version: 1, records });

describe('the receiver checker agrees with the documented zod schema', () => {
  const cases = recordCases();

  it('reads the 13 time fields and the 7 nullable text fields from the schema', () => {
    expect(TIMES).toHaveLength(13);
    expect(TIMES).toEqual(expect.arrayContaining(['status_at', 'last_event_at', 'sent_at', 'complained_at']));
    expect(TEXTS).toHaveLength(7);
    expect(TEXTS).toEqual(expect.arrayContaining(['recipient', 'configuration_set', 'reject_reason']));
  });

  it('has both valid and invalid cases to compare', () => {
    const outcomes = cases.map(([, r]) => RecordBatchBodySchema.safeParse(bodyOf([r])).success);
    expect(outcomes.filter(Boolean).length).toBeGreaterThan(40);
    expect(outcomes.filter((ok) => !ok).length).toBeGreaterThan(300);
  });

  it.each(cases)('%s', (_name, record) => {
    // The record alone, and behind two valid ones (the reason then names records[2]).
    for (const body of [bodyOf([record]), bodyOf([valid[1], valid[2], record])]) {
      const zod = RecordBatchBodySchema.safeParse(body);
      const check = checkRecordBatchBody(body);
      expect(check.ok).toBe(zod.success);
      if (!check.ok && !zod.success) expect(refusalReason(body, check)).toBe(describeIssues(zod.error));
      // The scan from the bytes vouches for exactly the bodies the schema accepts, written as JSON.stringify does.
      const scanned = scanRecordBatch(Buffer.from(JSON.stringify(body)), true);
      expect(scanned !== null).toBe(zod.success);
      if (scanned && zod.success) {
        const ids = zod.data.records.map((_, i) => idOfWords(scanned.idWords, i * 4));
        expect(ids).toEqual(zod.data.records.map((r) => r.record_id));
      }
    }
  });

  it.each([
    ['not an object', [1, 2]],
    ['null', null],
    ['no records', { schema_version: 1 }],
    ['empty records', { schema_version: 1, records: [] }],
    ['records not an array', { schema_version: 1, records: { 0: valid[0] } }],
    ['wrong schema version', { schema_version: 2, records: [valid[0]] }],
    ['no schema version', { records: [valid[0]] }],
    ['an unknown envelope field', { schema_version: 1, records: [valid[0]], extra: true }],
    ['a valid body', bodyOf(valid)],
  ])('body: %s', (_name, body) => {
    const zod = RecordBatchBodySchema.safeParse(body);
    const check = checkRecordBatchBody(body);
    expect(check.ok).toBe(zod.success);
    if (!check.ok && !zod.success) expect(refusalReason(body, check)).toBe(describeIssues(zod.error));
  });

  it('hands back the records it accepted, as parsed', () => {
    const body = bodyOf(valid);
    const check = checkRecordBatchBody(body);
    expect(check.ok && check.records).toBe(body.records);
  });
});

describe('parseBody: a body parsed record by record from its bytes, as JSON.parse of the whole would', () => {
  const records = syntheticRecords(5, { prefix: 'pb' }) as unknown as Obj[];
  const body = (rs: unknown[]) => JSON.stringify({ schema_version: 1, records: rs });

  it.each([
    ['a body as sesflow writes it', body(records)],
    ['one record', body(records.slice(0, 1))],
    ['multi-byte text', body([{ ...records[0], campaign_id: 'été 😀 ünïcödé' }, records[1]])],
    [
      'a value that spells the cut',
      body([{ ...records[0], reject_reason: '},{"schema_version":1,"x":"' }, records[1]]),
    ],
    ['spaces between records', body(records).replaceAll('},{', '}, {')],
    ['pretty-printed', JSON.stringify({ schema_version: 1, records }, null, 2)],
    ['records not led by schema_version', body(records.map(({ schema_version: _, ...r }) => ({ ...r, v: 1 })))],
    [
      'a piece that is not a record',
      `{"schema_version":1,"records":[{"schema_version":1},{"schema_version":[1,{"a":1}]}]}`,
    ],
    ['an envelope of another version', body(records).replace('{"schema_version":1,', '{"schema_version":2,')],
  ])('%s', (_name, text) => {
    expect(parseBody(Buffer.from(text))).toEqual(JSON.parse(text));
  });

  it.each([
    ['a piece cut inside', '{"schema_version":1,"records":[{"schema_version":1,"a":"},{"schema_version":2}]}'],
    ['truncated', body(records).slice(0, -3)],
    ['an extra comma', body(records).replace('},{', '},,{')],
    ['empty', ''],
  ])('throws as JSON.parse does: %s', (_name, text) => {
    let expected: unknown;
    try {
      expected = JSON.parse(text);
    } catch {
      expected = 'throws';
    }
    let got: unknown;
    try {
      got = parseBody(Buffer.from(text));
    } catch (err) {
      expect(err).toBeInstanceOf(SyntaxError);
      got = 'throws';
    }
    expect(got).toEqual(expected);
  });
});
