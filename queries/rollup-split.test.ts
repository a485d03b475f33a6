import { describe, expect, it } from 'vitest';
import { checkWholeDays, daysOf, pickWholeDays, timeParamMs, usableRollupDays } from './rollup-split';

const days = (...d: string[]) => new Set(d);

describe('pickWholeDays: the whole days of a period read from rollups', () => {
  it('takes the rolled-up days lying wholly inside [from, to): a mid-day start or end leaves its day to raw events', () => {
    const rolled = days('2026-05-01', '2026-05-02', '2026-05-03', '2026-05-04');
    expect(pickWholeDays('2026-05-01 06:00:00.000', '2026-05-04 12:00:00.000', rolled)).toEqual({
      from: '2026-05-02',
      to: '2026-05-04',
    });
    expect(pickWholeDays('2026-05-01 00:00:00.000', '2026-05-05 00:00:00.000', rolled)).toEqual({
      from: '2026-05-01',
      to: '2026-05-05',
    });
    expect(pickWholeDays('2026-05-02T00:00:00Z', '2026-05-03T00:00:00Z', rolled)).toEqual({
      from: '2026-05-02',
      to: '2026-05-03',
    });
  });

  it('gives none for an empty period, a period within one day, or no rolled-up day inside it', () => {
    const rolled = days('2026-05-01', '2026-05-02');
    expect(pickWholeDays('2026-05-01 00:00:00.000', '2026-05-01 00:00:00.000', rolled)).toBeNull();
    expect(pickWholeDays('2026-05-01 01:00:00.000', '2026-05-01 23:00:00.000', rolled)).toBeNull();
    expect(pickWholeDays('2026-05-03 00:00:00.000', '2026-05-09 00:00:00.000', rolled)).toBeNull();
    expect(pickWholeDays('2026-05-02 00:00:00.000', '2026-05-01 00:00:00.000', rolled)).toBeNull();
    expect(pickWholeDays(null, null, [])).toBeNull();
  });

  it('an open bound takes every rolled-up day on that side', () => {
    const rolled = days('2026-05-01', '2026-05-02', '2026-05-03');
    expect(pickWholeDays(null, '2026-05-03 10:00:00.000', rolled)).toEqual({ from: '2026-05-01', to: '2026-05-03' });
    expect(pickWholeDays('2026-05-01 10:00:00.000', null, rolled)).toEqual({ from: '2026-05-02', to: '2026-05-04' });
    expect(pickWholeDays(null, null, rolled)).toEqual({ from: '2026-05-01', to: '2026-05-04' });
  });

  it('with a gap (a stale or missing day), the longest run, the latest of equal runs', () => {
    const gap = days('2026-05-01', '2026-05-02', '2026-05-04', '2026-05-05', '2026-05-06');
    expect(pickWholeDays(null, null, gap)).toEqual({ from: '2026-05-04', to: '2026-05-07' });
    const even = days('2026-05-01', '2026-05-02', '2026-05-04', '2026-05-05');
    expect(pickWholeDays(null, null, even)).toEqual({ from: '2026-05-04', to: '2026-05-06' });
    expect(pickWholeDays(null, null, days('2026-05-01', 'junk', '2026-13-45'))).toEqual({
      from: '2026-05-01',
      to: '2026-05-02',
    });
  });

  it('crosses month and year ends', () => {
    expect(pickWholeDays(null, null, days('2026-12-31', '2027-01-01'))).toEqual({
      from: '2026-12-31',
      to: '2027-01-02',
    });
    expect(daysOf({ from: '2026-02-27', to: '2026-03-02' })).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
  });
});

describe('checkWholeDays: a split the server set', () => {
  it('accepts days inside the period and an empty split; refuses days outside it, bad text, or out of order', () => {
    expect(() =>
      checkWholeDays('2026-05-01 00:00:00.000', '2026-05-03 00:00:00.000', { from: '2026-05-01', to: '2026-05-03' }),
    ).not.toThrow();
    expect(() =>
      checkWholeDays('2026-05-01 10:00:00.000', null, { from: '2026-05-01', to: '2026-05-01' }),
    ).not.toThrow();
    expect(() => checkWholeDays('2026-05-01 10:00:00.000', null, { from: '2026-05-01', to: '2026-05-02' })).toThrow(
      /not inside/,
    );
    expect(() => checkWholeDays(null, '2026-05-02 10:00:00.000', { from: '2026-05-01', to: '2026-05-03' })).toThrow(
      /not inside/,
    );
    expect(() => checkWholeDays(null, null, { from: '2026-05-03', to: '2026-05-01' })).toThrow(/out of order/);
    expect(() => checkWholeDays(null, null, { from: "2026-05-01' OR 1=1", to: '2026-05-02' })).toThrow(/YYYY-MM-DD/);
  });

  it('reads times as the queries bind them (UTC, no zone) and as ISO 8601 with a zone', () => {
    expect(timeParamMs('2026-05-01 10:00:00.000')).toBe(Date.parse('2026-05-01T10:00:00Z'));
    expect(timeParamMs('2026-05-01T12:00:00+02:00')).toBe(Date.parse('2026-05-01T10:00:00Z'));
    expect(timeParamMs('2026-05-01')).toBe(Date.parse('2026-05-01T00:00:00Z'));
    expect(() => timeParamMs('yesterday')).toThrow(/not a time/);
  });
});

describe('usableRollupDays: the days a split may read', () => {
  it('fresh days whose every rollup file is of their current build', () => {
    const build = 'sesflow~rollup-2026-05-03-00-00-00-000-0123456789abcdef.parquet';
    const keys = (day: string, ...names: string[]) => names.map((n) => `rollups/daily/dt=${day}/${n}`);
    const usable = usableRollupDays([
      { day: '2026-05-01', build, fresh: true, rollupKeys: keys('2026-05-01', build) },
      { day: '2026-05-02', build, fresh: false, rollupKeys: keys('2026-05-02', build) },
      { day: '2026-05-03', build, fresh: true, rollupKeys: keys('2026-05-03', build, 'sesflow~rollup-old.parquet') },
      { day: '2026-05-04', build: null, fresh: false, rollupKeys: [] },
    ]);
    expect([...usable]).toEqual(['2026-05-01']);
  });
});
