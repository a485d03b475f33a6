import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from './csv';
import { parseReportQuery, parseTime } from './params';

// Rows 11 and 15 of the hostile-input probes: dates that do not exist, and spreadsheet formulas behind white space
// or in full-width forms.

describe('row 11: report dates are checked, not rolled over', () => {
  const now = new Date('2026-03-10T12:00:00Z');
  for (const raw of [
    '2026-02-30',
    '2026-02-29',
    '2026-04-31',
    '2026-13-01',
    '2026-00-10',
    '2026-01-00',
    '2026-03-01T24:00Z',
    '2026-03-01T23:60Z',
    '2026-03-01T10:00:60Z',
    '2026-03-01T10:00+24:00',
  ]) {
    it(`answers 400 for from=${raw}`, () => {
      expect(() => parseReportQuery({ from: raw, to: '2026-03-09' }, now)).toThrow(
        new RegExp(`^from is not a real date or time: ${raw.replace('+', '\\+')}$`),
      );
    });
  }

  it('takes real days and times, leap days included', () => {
    expect(parseTime('from', '2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseTime('from', '2026-02-28T23:59:59.999Z')).toBe(Date.UTC(2026, 1, 28, 23, 59, 59, 999));
    expect(parseTime('to', '2026-03-01T01:30+01:30')).toBe(Date.UTC(2026, 2, 1, 0, 0));
    expect(() => parseTime('to', '2026-3-1')).toThrow(/^to must be a date \(YYYY-MM-DD\) or an ISO time$/);
  });
});

describe('row 15: CSV cells that a spreadsheet would run are prefixed', () => {
  for (const text of [
    ' =1+1',
    '   =HYPERLINK("http://evil")',
    '\u00a0=1',
    '\u3000=1',
    '\n=1',
    '＝HYPERLINK("http://evil")',
    ' ＋1',
    '－1',
    '＠SUM(A1)',
    '=1',
    '+1',
    '@A1',
    '\tx',
  ]) {
    it(`escapes ${JSON.stringify(text)} like =`, () => {
      expect(csvCell(text)).toBe(`'${text}`);
    });
  }

  it('leaves text that is not a formula alone, and quotes what needs quoting', () => {
    expect(csvCell('a = b')).toBe('a = b');
    expect(csvCell('x@example.org')).toBe('x@example.org');
    expect(toCsv(['v'], [{ v: ' =1,2' }])).toBe(`v\r\n"' =1,2"\r\n`);
  });
});
