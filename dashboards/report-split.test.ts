import { describe, expect, it } from 'vitest';
import { DAY_MS, drillDownBasis, HOUR_MS, hourPartitions, rollupValues, splitAggregatePeriod } from './report-split';

const D = (s: string) => Date.parse(`${s}T00:00:00Z`);
const T = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();
const days = (...list: string[]) => {
  const set = new Set(list.map(D));
  return (d: number) => set.has(d);
};

describe('splitting a period between rollups and raw events', () => {
  it('takes the whole rolled-up days and leaves the partial days at both ends to raw', () => {
    const s = splitAggregatePeriod({
      from: T('2026-07-01T05:00:00Z'),
      to: T('2026-07-04T17:00:00Z'),
      rolledUp: days('2026-07-01', '2026-07-02', '2026-07-03', '2026-07-04'),
      rawKeptFrom: null,
    });
    expect(s.days).toEqual({ from: D('2026-07-02'), to: D('2026-07-04') });
    expect(s.raw).toEqual([
      { from: T('2026-07-01T05:00:00Z'), to: D('2026-07-02') },
      { from: D('2026-07-04'), to: T('2026-07-04T17:00:00Z') },
    ]);
    expect(s.basis).toEqual({
      source: 'rollups+raw',
      from: '2026-07-01T05:00:00.000Z',
      to: '2026-07-04T17:00:00.000Z',
      rawEventsKeptFrom: null,
      note: null,
    });
  });

  it('uses the longest run of rolled-up days: a stale or missing day splits the run, the rest is read raw', () => {
    const s = splitAggregatePeriod({
      from: D('2026-07-01'),
      to: D('2026-07-08'),
      rolledUp: days('2026-07-01', '2026-07-03', '2026-07-04', '2026-07-05'),
      rawKeptFrom: null,
    });
    expect(s.days).toEqual({ from: D('2026-07-03'), to: D('2026-07-06') });
    expect(s.raw).toEqual([
      { from: D('2026-07-01'), to: D('2026-07-03') },
      { from: D('2026-07-06'), to: D('2026-07-08') },
    ]);
  });

  it('reads everything raw when no whole day is rolled up, or the period holds none', () => {
    const none = splitAggregatePeriod({
      from: D('2026-07-01'),
      to: D('2026-07-03'),
      rolledUp: () => false,
      rawKeptFrom: null,
    });
    expect(none.days).toBeNull();
    expect(none.raw).toEqual([{ from: D('2026-07-01'), to: D('2026-07-03') }]);
    expect(none.basis.source).toBe('raw');
    const inside = splitAggregatePeriod({
      from: T('2026-07-01T01:00:00Z'),
      to: T('2026-07-01T23:00:00Z'),
      rolledUp: () => true,
      rawKeptFrom: null,
    });
    expect(inside.days).toBeNull();
    expect(inside.basis.source).toBe('raw');
  });

  it('answers days before raw retention from rollups alone, rounds an expired edge out to its day, and says so', () => {
    const s = splitAggregatePeriod({
      from: T('2026-07-01T06:00:00Z'),
      to: T('2026-07-05T12:00:00Z'),
      rolledUp: days('2026-07-03'),
      rawKeptFrom: D('2026-07-03'),
    });
    // 07-01 and 07-02 have no raw events: rollups (a missing rollup = no data); 07-03 rolled up; 07-04 on: raw.
    expect(s.days).toEqual({ from: D('2026-07-01'), to: D('2026-07-04') });
    expect(s.raw).toEqual([{ from: D('2026-07-04'), to: T('2026-07-05T12:00:00Z') }]);
    expect(s.basis.from).toBe('2026-07-01T00:00:00.000Z');
    expect(s.basis.to).toBe('2026-07-05T12:00:00.000Z');
    expect(s.basis.rawEventsKeptFrom).toBe('2026-07-03');
    expect(s.basis.note).toMatch(/^raw events before 2026-07-03 were deleted by retention: .*whole days only/);
  });

  it('keeps the expired run even when a longer rolled-up run exists later, and rounds an expired end up', () => {
    const s = splitAggregatePeriod({
      from: D('2026-06-01'),
      to: T('2026-06-02T10:00:00Z'),
      rolledUp: () => false,
      rawKeptFrom: D('2026-07-01'),
    });
    expect(s.days).toEqual({ from: D('2026-06-01'), to: D('2026-06-03') });
    expect(s.raw).toEqual([]);
    expect(s.basis).toMatchObject({ source: 'rollups', to: iso(D('2026-06-03')), rawEventsKeptFrom: '2026-07-01' });
    const later = splitAggregatePeriod({
      from: D('2026-06-29'),
      to: D('2026-07-10'),
      rolledUp: (d) => d >= D('2026-07-02'),
      rawKeptFrom: D('2026-07-01'),
    });
    expect(later.days).toEqual({ from: D('2026-06-29'), to: D('2026-07-01') });
    expect(later.raw).toEqual([{ from: D('2026-07-01'), to: D('2026-07-10') }]);
  });

  it('says nothing about retention for a period inside it', () => {
    const s = splitAggregatePeriod({
      from: D('2026-07-05'),
      to: D('2026-07-06'),
      rolledUp: () => true,
      rawKeptFrom: D('2026-07-01'),
    });
    expect(s.basis).toMatchObject({ source: 'rollups', rawEventsKeptFrom: null, note: null });
  });

  it('gives the rendering its period and days, equal days when none is from rollups', () => {
    const ts = (ms: number) => iso(ms);
    const s = splitAggregatePeriod({
      from: D('2026-07-01'),
      to: D('2026-07-03'),
      rolledUp: () => true,
      rawKeptFrom: null,
    });
    expect(rollupValues(s, ts)).toEqual({
      from: iso(D('2026-07-01')),
      to: iso(D('2026-07-03')),
      day_from: '2026-07-01',
      day_to: '2026-07-03',
    });
    const raw = splitAggregatePeriod({
      from: D('2026-07-01'),
      to: D('2026-07-03'),
      rolledUp: () => false,
      rawKeptFrom: null,
    });
    const v = rollupValues(raw, ts);
    expect(v.day_from).toBe(v.day_to);
  });
});

describe('drill-down over expired days, and the partitions a range touches', () => {
  it('says the raw events were deleted by retention, and nothing otherwise', () => {
    expect(drillDownBasis(D('2026-06-01'), D('2026-07-05'), D('2026-07-01'))).toEqual({
      source: 'raw',
      from: '2026-06-01T00:00:00.000Z',
      to: '2026-07-05T00:00:00.000Z',
      rawEventsKeptFrom: '2026-07-01',
      note: 'raw events before 2026-07-01 were deleted by retention: rows before then cannot be shown',
    });
    expect(drillDownBasis(D('2026-07-02'), D('2026-07-05'), D('2026-07-01')).note).toBeNull();
    expect(drillDownBasis(D('2026-07-02'), D('2026-07-05'), null).note).toBeNull();
  });

  it('lists every hour partition of a range, the partial first and last hours included', () => {
    expect(hourPartitions(T('2026-07-01T22:30:00Z'), T('2026-07-02T01:00:01Z'))).toEqual([
      'dt=2026-07-01/hour=22',
      'dt=2026-07-01/hour=23',
      'dt=2026-07-02/hour=00',
      'dt=2026-07-02/hour=01',
    ]);
    expect(hourPartitions(D('2026-07-01'), D('2026-07-01') + DAY_MS)).toHaveLength(24);
    expect(hourPartitions(D('2026-07-01'), D('2026-07-01') + HOUR_MS)).toEqual(['dt=2026-07-01/hour=00']);
  });
});
