import { describe, expect, it } from 'vitest';
import { ReportingRecordSchema } from '../../enrich/push/record';
import { syntheticRecords } from '../../enrich/push/test-events';
import { ISO_TIME, RecordBatchBodySchema } from './record-check';
import { isIsoTimeAt, RECORD_FIELDS, type ScannedBatch, scanRecordBatch } from './record-scan';
import { idOfWords } from './record-table';

const idsOf = (s: ScannedBatch) => Array.from({ length: s.count }, (_, i) => idOfWords(s.idWords, i * 4));

type Obj = Record<string, unknown>;

const records = syntheticRecords(14, { prefix: 'scan', tenants: 3 }) as unknown as Obj[];
const withBounce = records.find((r) => r.bounce !== null)!;
const withComplaint = records.find((r) => r.complaint !== null)!;
const body = (rs: unknown[]) => JSON.stringify({ schema_version: 1, records: rs });

/**
 * What the scan says of a text must agree with `JSON.parse` and the schema: a body it vouches for parses, is
 * accepted, and has the ids, revisions and tenants the scan found. Returns whether it vouched.
 */
function agrees(text: string | Buffer): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const scanned = scanRecordBatch(bytes, true);
  if (scanned === null) return false;
  const parsed = RecordBatchBodySchema.safeParse(JSON.parse(bytes.toString('utf8')));
  expect(parsed.success).toBe(true);
  const rs = parsed.data!.records;
  expect(scanned.count).toBe(rs.length);
  expect(idsOf(scanned)).toEqual(rs.map((r) => r.record_id));
  expect(scanned.revisions).toEqual(rs.map((r) => r.revision));
  expect(scanned.tenants).toEqual(rs.map((r) => r.tenant_id));
  return true;
}

/** Whether the schema accepts the text (false for a text that is not JSON). */
function schemaAccepts(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return RecordBatchBodySchema.safeParse(value).success;
}

describe('scanRecordBatch: a body checked from its bytes', () => {
  it('knows every field of the record schema, in its order', () => {
    expect(RECORD_FIELDS.keys.map((k) => Buffer.from(k).toString('latin1'))).toEqual(
      Object.keys(ReportingRecordSchema.shape).map((k) => `"${k}"`),
    );
  });

  it('vouches for bodies as sesflow writes them, with the ids, revisions and tenants of the parse', () => {
    expect(agrees(body(records))).toBe(true);
    expect(agrees(body(records.slice(0, 1)))).toBe(true);
    expect(agrees(body([withBounce, withComplaint]))).toBe(true);
  });

  it('returns tenants only when asked for them', () => {
    expect(scanRecordBatch(Buffer.from(body(records)))?.tenants).toBeNull();
  });

  it.each([
    ['pretty-printed (2 spaces)', JSON.stringify({ schema_version: 1, records }, null, 2)],
    ['tabs and CRLF', JSON.stringify({ schema_version: 1, records }, null, '\t').replaceAll('\n', '\r\n')],
    [
      'spaces around every token',
      body(records).replaceAll('":', '" : ').replaceAll(',"', ' ,\t"').replaceAll('{', ' { ').replaceAll('}', ' } '),
    ],
    ['whitespace before and after the body', `\n\t ${body(records)} \r\n`],
    ['records first in the envelope', JSON.stringify({ records, schema_version: 1 })],
    ['keys of each record in reverse order', body(records.map((r) => Object.fromEntries(Object.entries(r).reverse())))],
    [
      'keys of bounce and complaint in another order',
      body([
        { ...withBounce, bounce: Object.fromEntries(Object.entries(withBounce.bounce as Obj).reverse()) },
        { ...withComplaint, complaint: Object.fromEntries(Object.entries(withComplaint.complaint as Obj).reverse()) },
      ]),
    ],
    ['escapes in texts', body([{ ...records[0], campaign_id: 'a "quoted" \\ back/slash\n\ttab \u0001 \u2028' }])],
    ['an escaped solidus and \\u escapes', body(records).replace('"tenant-0"', '"tenant\\u002d0\\/x"')],
    ['non-ASCII texts', body([{ ...records[0], campaign_id: 'été ünïcödé 日本語 😀', tenant_id: 'Mandant-ä' }])],
    ['astral characters at the limit', body([{ ...records[0], campaign_id: '😀'.repeat(2048) }])],
    ['ASCII text at the limit', body([{ ...records[0], reject_reason: 'r'.repeat(2048) }])],
    ['ids at the limit', body([{ ...records[0], message_id: 'm'.repeat(256), tenant_id: 'é'.repeat(256) }])],
    ['a time written with escapes', body(records).replace(/"status_at":"(\d{4})-/, '"status_at":"$1\\u002d')],
    ['a status written with escapes', body([{ ...records[0], status: 'sent' }]).replace('"sent"', '"s\\u0065nt"')],
    ['a large revision', body([{ ...records[0], revision: 2 ** 53 - 1 }])],
  ])('vouches for a valid body not written by sesflow: %s', (_name, text) => {
    expect(schemaAccepts(text)).toBe(true);
    expect(agrees(text)).toBe(true);
  });

  it.each([
    ['schema_version written 1.0', body(records).replace('{"schema_version":1,', '{"schema_version":1.0,')],
    [
      'schema_version written 1e0',
      body(records).replaceAll('"schema_version":1,"record_id"', '"schema_version":1e0,"record_id"'),
    ],
    ['a revision written 3.0', body(records).replace('"revision":3,', '"revision":3.0,')],
    ['a revision written 30e-1', body(records).replace('"revision":3,', '"revision":30e-1,')],
    ['a record key spelt with escapes', body(records).replace('"status":', '"st\\u0061tus":')],
    ['a duplicate key, the later value valid', body(records).replace('"revision":3,', '"revision":"x","revision":3,')],
    ['an envelope key twice', body(records).replace(/}$/, ',"schema_version":1}')],
  ])('leaves valid bodies it cannot vouch for to the full parse: %s', (_name, text) => {
    expect(schemaAccepts(text)).toBe(true);
    expect(agrees(text)).toBe(false);
  });

  const valid = body(records);
  it.each([
    ['empty', ''],
    ['not an object', '[]'],
    ['empty records', '{"schema_version":1,"records":[]}'],
    ['no records', '{"schema_version":1}'],
    ['another envelope version', valid.replace('{"schema_version":1,"records"', '{"schema_version":2,"records"')],
    ['an unknown envelope key', valid.replace(/}$/, ',"more":1}')],
    ['a duplicate key, the later value invalid', valid.replace('"revision":3,', '"revision":3,"revision":"x",')],
    ['an unknown record key', valid.replace('"status":', '"extra":null,"status":')],
    ['a __proto__ key', valid.replace('"status":', '"__proto__":{},"status":')],
    ['a missing key', valid.replace(/"reject_reason":null/, '"x":null').replace(',"x":null', '')],
    ['a trailing comma in a record', valid.replace('"reject_reason":null}', '"reject_reason":null,}')],
    ['a trailing comma in records', valid.replace(/]}$/, ',]}')],
    ['trailing content', `${valid}x`],
    ['two bodies', `${valid}${valid}`],
    ['truncated', valid.slice(0, -2)],
    ['a byte order mark', `\ufeff${valid}`],
    ['a raw control character in a string', valid.replace('"tenant-0"', '"tenant\u0001-0"')],
    ['a bad escape', valid.replace('"tenant-0"', '"tenant\\x-0"')],
    ['a short \\u escape', valid.replace('"tenant-0"', '"tenant\\u00"')],
    ['a nested object as a text', body([{ ...records[0], campaign_id: { a: 1 } }])],
    ['an array as a text', body([{ ...records[0], campaign_id: ['a'] }])],
    ['a number as a text', body([{ ...records[0], campaign_id: 5 }])],
    ['true as a text', body([{ ...records[0], campaign_id: true }])],
    ['nul for null', valid.replace('"reject_reason":null', '"reject_reason":nul')],
    ['nullx', valid.replace('"reject_reason":null', '"reject_reason":nullx')],
    ['text over the limit', body([{ ...records[0], campaign_id: 'x'.repeat(2049) }])],
    ['astral text over the limit', body([{ ...records[0], campaign_id: `${'😀'.repeat(2048)}x` }])],
    ['an empty tenant', body([{ ...records[0], tenant_id: '' }])],
    ['a tenant over the limit', body([{ ...records[0], tenant_id: 'é'.repeat(257) }])],
    ['an upper-case record id', body([{ ...records[0], record_id: String(records[0]!.record_id).toUpperCase() }])],
    ['a record id with an escape', valid.replace(/"record_id":"([0-9a-f])/, '"record_id":"\\u0067')],
    ['revision 0', body([{ ...records[0], revision: 0 }])],
    ['revision -1', body([{ ...records[0], revision: -1 }])],
    ['revision 01', valid.replace('"revision":3,', '"revision":03,')],
    ['revision 2^53', body([{ ...records[0], revision: 2 ** 53 }])],
    ['revision 2.5', body([{ ...records[0], revision: 2.5 }])],
    ['revision as a string', body([{ ...records[0], revision: '3' }])],
    ['an unknown status', body([{ ...records[0], status: 'exploded' }])],
    ['a status spelt with a prefix of another', body([{ ...records[0], status: 'sen' }])],
    ['a bad time', body([{ ...records[0], status_at: '2026-02-29T00:00:00.000Z' }])],
    ['a time without milliseconds', body([{ ...records[0], sent_at: '2026-05-01T10:00:00Z' }])],
    ['a time with an escaped bad character', valid.replace(/"status_at":"(\d{4})-/, '"status_at":"$1\\u002f')],
    ['a bounce with an extra key', body([{ ...withBounce, bounce: { ...(withBounce.bounce as Obj), x: null } }])],
    ['a bounce without its time', body([{ ...withBounce, bounce: { ...(withBounce.bounce as Obj), at: undefined } }])],
    ['a bounce shaped like a complaint', body([{ ...withBounce, bounce: withComplaint.complaint }])],
    ['a complaint as an array', body([{ ...withComplaint, complaint: [withComplaint.complaint] }])],
    ['invalid UTF-8 outside strings', Buffer.concat([Buffer.from(valid.slice(0, -1)), Buffer.from([0xff, 0x7d])])],
  ])('refuses to vouch for an invalid body: %s', (_name, text) => {
    const t = typeof text === 'string' ? text : text.toString('utf8');
    expect(schemaAccepts(t)).toBe(false);
    expect(scanRecordBatch(typeof text === 'string' ? Buffer.from(text) : text, true)).toBeNull();
  });

  it('reads strings holding invalid UTF-8 as the whole text decodes them', () => {
    // A Latin-1 byte in a text and in a tenant: each decodes to U+FFFD, as in the parse of the whole body.
    const text = body([{ ...records[0], campaign_id: 'caf\u00e9', tenant_id: 't\u00e9' }]);
    const latin = Buffer.from(text, 'latin1');
    expect(agrees(latin)).toBe(true);
    expect(scanRecordBatch(latin, true)?.tenants).toEqual(['t\ufffd']);
    // A lone surrogate escape is a valid JSON string, of one code point.
    expect(agrees(body([{ ...records[0], tenant_id: '\ud800' }]))).toBe(true);
    expect(agrees(body([{ ...records[0], tenant_id: '\ud800'.repeat(257) }]))).toBe(false);
  });

  it('agrees with the parse and the schema on many mutated bodies', () => {
    // Each body is a valid one with one byte changed: most break it, some keep it valid.
    const base = body([withBounce, withComplaint, records[0]]);
    const bytes = Buffer.from(base);
    const replacements = [0x20, 0x22, 0x2c, 0x30, 0x31, 0x39, 0x3a, 0x5c, 0x61, 0x6e, 0x7b, 0x7d, 0x5b, 0x5d, 0xc3];
    let vouched = 0;
    let accepted = 0;
    for (let i = 0; i < bytes.length; i += 3) {
      for (const c of replacements) {
        if (bytes[i] === c) continue;
        const m = Buffer.from(bytes);
        m[i] = c;
        const ok = schemaAccepts(m.toString('utf8'));
        if (ok) accepted++;
        const v = agrees(m);
        if (v) vouched++;
        if (v) expect(ok).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(100);
    expect(vouched).toBeGreaterThan(100);
  });
});

describe('isIsoTimeAt: the contract time pattern on bytes', () => {
  const check = (s: string) => {
    const b = Buffer.from(`"${s}"`, 'latin1');
    expect(s.length === 24 && isIsoTimeAt(b, 1)).toBe(ISO_TIME.test(s));
  };

  it('agrees with the pattern on every day of leap and common years and on every change of one character', () => {
    const years = ['0000', '0004', '0100', '1900', '2000', '2023', '2024', '2100', '2400', '9996', '9999'];
    for (const y of years) {
      for (let m = 0; m <= 13; m++) {
        for (let d = 0; d <= 32; d++) {
          check(`${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T12:34:56.789Z`);
        }
      }
    }
    for (const t of ['00:00:00.000', '23:59:59.999', '24:00:00.000', '19:60:00.000', '19:00:60.000', '29:00:00.000']) {
      check(`2026-05-01T${t}Z`);
    }
    const base = '2024-02-29T23:59:59.999Z';
    const chars = '0123456789-:.TZzt+ /\u00ff';
    for (let i = 0; i < base.length; i++) {
      for (const c of chars) check(base.slice(0, i) + c + base.slice(i + 1));
    }
  });
});
