import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readScaleSettings } from './scale.bench';
import { viewRequests } from './scale-engine';
import { parseEventCount } from './scale-lake';

const here = dirname(fileURLToPath(import.meta.url));

describe('scale benchmark settings', () => {
  it('reads lake sizes as 1M, 10M, 100M or 250k', () => {
    expect(parseEventCount('1M')).toBe(1_000_000);
    expect(parseEventCount('10m')).toBe(10_000_000);
    expect(parseEventCount('100M')).toBe(100_000_000);
    expect(parseEventCount('250k')).toBe(250_000);
    expect(() => parseEventCount('lots')).toThrow(/not an event count/);
    expect(() => parseEventCount('0.5k')).toThrow(/at least 1k/);
  });

  it('defaults to 1M (100k when quick), every part, and refuses an unknown part', () => {
    const d = readScaleSettings({}, false);
    expect(d.sizes).toEqual([1_000_000]);
    expect([...d.parts]).toEqual(['build', 'engine', 'postgres', 'athena']);
    expect(readScaleSettings({}, true).sizes).toEqual([100_000]);
    const s = readScaleSettings(
      { SESFLOW_BENCH_SCALE_EVENTS: '1M,10M', SESFLOW_BENCH_SCALE_DIR: 'lakes', SESFLOW_BENCH_SCALE_PARTS: 'build' },
      false,
    );
    expect(s).toEqual({ sizes: [1_000_000, 10_000_000], dir: 'lakes', parts: new Set(['build']) });
    expect(() => readScaleSettings({ SESFLOW_BENCH_SCALE_PARTS: 'build,speed' }, false)).toThrow(/unknown part speed/);
  });
});

describe('the requests of the two dashboard views', () => {
  const views = viewRequests('acme', '2026-12-07');
  const paths = Object.values(views).flatMap((list) => list.map(([, path]) => path));

  it('cover every report the report page asks for (dashboards/web/app.js), for both views', () => {
    const app = readFileSync(join(here, '..', 'dashboards', 'web', 'app.js'), 'utf8');
    const tables = app.slice(app.indexOf('const TABLES'), app.indexOf('function reportTable'));
    const reports = ['tenant-summary', ...[...tables.matchAll(/^ {2}'?([a-z-]+)'?: \{/gm)].map((m) => m[1]!)];
    expect(reports.length).toBeGreaterThan(3);
    for (const view of ['compliance', 'client'] as const) {
      for (const r of reports) {
        expect(views[view]!.some(([, path]) => path.startsWith(`/v1/reports/${r}?`))).toBe(true);
      }
    }
  });

  it('ask for the page default (7 days up to tomorrow) and 30 days, the compliance view naming the tenant', () => {
    expect(paths).toContain('/v1/reports/tenant-summary?from=2026-12-01&to=2026-12-08&tenant=acme');
    expect(paths).toContain('/v1/reports/tenant-summary?from=2026-11-07&to=2026-12-07');
    expect(paths).toContain('/v1/tenants');
    expect(paths).toContain('/v1/tenants/acme/audit');
  });
});
