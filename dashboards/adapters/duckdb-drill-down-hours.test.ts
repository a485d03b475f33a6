import { describe, expect, it } from 'vitest';
import { newestFirstHours, newestFirstPick } from './duckdb-drill-down-hours';

const H = 3_600_000;
const DAY = 24 * H;
const D0 = Date.parse('2026-07-01T00:00:00Z');
const D1 = D0 + DAY;
const everyDay = () => true;

describe('newestFirstHours: the hours a newest-first drill-down reads', () => {
  it('stops at the hour where the newer whole hours hold at least the limit', () => {
    const hints = [
      { hour: D1 + 10 * H, atLeast: 3 },
      { hour: D1 + 11 * H, atLeast: 2 },
      { hour: D1 + 9 * H, atLeast: 4 },
    ];
    const period = { from: D0, to: D1 + 12 * H };
    expect(newestFirstHours(period, 5, everyDay, hints)).toEqual([{ from: D1 + 10 * H, to: D1 + 12 * H }]);
    expect(newestFirstHours(period, 6, everyDay, hints)).toEqual([{ from: D1 + 9 * H, to: D1 + 12 * H }]);
  });

  it('reads every hour holding rows when the newer hours hold fewer than the limit', () => {
    const hints = [
      { hour: D1 + 10 * H, atLeast: 3 },
      { hour: D0 + 2 * H, atLeast: 0 },
    ];
    expect(newestFirstHours({ from: D0, to: D1 + 12 * H }, 4, everyDay, hints)).toEqual([
      { from: D0 + 2 * H, to: D0 + 3 * H },
      { from: D1 + 10 * H, to: D1 + 11 * H },
    ]);
  });

  it('reads every hour of a day it knows nothing of (not rolled up or stale), and counts nothing there', () => {
    const known = (day: number) => day === D1;
    const hints = [{ hour: D1 + 23 * H, atLeast: 1 }];
    expect(newestFirstHours({ from: D0 + 22 * H, to: D1 + DAY }, 2, known, hints)).toEqual([
      { from: D0 + 22 * H, to: D1 },
      { from: D1 + 23 * H, to: D1 + DAY },
    ]);
  });

  it('does not count an hour the period cuts: its rows before the period are not the drill-down rows', () => {
    const hints = [
      { hour: D1 + 10 * H, atLeast: 5 },
      { hour: D1 + 9 * H, atLeast: 5 },
    ];
    const period = { from: D0, to: D1 + 10 * H + 60_000 };
    expect(newestFirstHours(period, 5, everyDay, hints)).toEqual([{ from: D1 + 9 * H, to: period.to }]);
    const from = D1 + 9 * H + 1;
    expect(newestFirstHours({ from, to: D1 + 10 * H + 60_000 }, 5, everyDay, hints)).toEqual([
      { from, to: D1 + 10 * H + 60_000 },
    ]);
  });
});

describe('newestFirstPick: whether the hours taken hold the limit', () => {
  it('says reached only when the whole hours taken hold the limit by their hints', () => {
    const hints = [
      { hour: D1 + 10 * H, atLeast: 3 },
      { hour: D1 + 9 * H, atLeast: 4 },
    ];
    const period = { from: D1, to: D1 + 12 * H };
    expect(newestFirstPick(period, 7, everyDay, hints)).toEqual({
      ranges: [{ from: D1 + 9 * H, to: D1 + 11 * H }],
      reached: true,
    });
    // (hours without a hint hold no row: skipped, and the hours taken are the same, short of the limit)
    expect(newestFirstPick(period, 8, everyDay, hints)).toEqual({
      ranges: [{ from: D1 + 9 * H, to: D1 + 11 * H }],
      reached: false,
    });
  });
});
