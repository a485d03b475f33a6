import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FsLakeStore } from '../ingest/fs-lake-store';
import type { NormalisedEvent } from '../ingest/normalise';
import { encodeParquet } from '../ingest/parquet-writer';
import { localRollupDays, rollUpLake } from '../ingest/rollups-writer';
import { partitionOf } from '../ingest/transform';
import { dayOf, expectedRows, type OracleParams, type OracleRow } from './oracle';
import { usableRollupDays, type WholeDays } from './rollup-split';
import { getNamedQuery, validateParams } from './run-named-query';
import { buildQueryTestLake } from './test-lake';

/**
 * Test support for the rollup renderings of the named queries: a lake written as production writes it, its rollups
 * built by the rollup writer (ingest/rollups-writer.ts, which runs the contract's build SQL of queries/rollups.ts per
 * day), then late events and redelivered files landing after the rollups (their days become stale), and seeded random
 * periods and splits to check every rendering against.
 */

/** The days of a local lake a split may read from rollups (fresh, one build). */
export async function freshDays(lakeDir: string): Promise<Set<string>> {
  return usableRollupDays((await localRollupDays(lakeDir)).values());
}

/** A seeded random source (mulberry32): the same periods and splits at every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RollupTestLake {
  dir: string;
  /** One row per event_id, late events included: what every answer must count. */
  rows: NormalisedEvent[];
  /** Every day with events, in order. */
  days: string[];
  /** Days rolled up, fresh and holding one build only (may be read from rollups). */
  fresh: Set<string>;
  /** A fresh day beside whose current build lies a file of an older build (a crash left it): not usable. */
  leftover: string;
  /** Days rolled up before late events landed in them (their rollups are stale). */
  stale: Set<string>;
  tenants: string[];
  campaigns: (string | null)[];
}

const DAY_MS = 86_400_000;

/** Writes rows as one more raw file in each of their partitions, named to sort after the others. */
function writeRawFiles(dir: string, rows: readonly NormalisedEvent[], name: string): void {
  const byPartition = new Map<string, NormalisedEvent[]>();
  for (const r of rows) {
    const { dt, hour } = partitionOf(r.event_time);
    const key = `dt=${dt}/hour=${hour}`;
    byPartition.set(key, [...(byPartition.get(key) ?? []), r]);
  }
  for (const [key, list] of byPartition) {
    mkdirSync(join(dir, 'events', key), { recursive: true });
    writeFileSync(join(dir, 'events', key, name), encodeParquet(list));
  }
}

/**
 * The lake: generated traffic over six days and the edge cases, one partition delivered twice (test-lake.ts) and two
 * more redelivered, every day rolled up; then, after the rollups, late events (opens and clicks of pairs already
 * seen on other days, bounces and complaints of known recipients, a copy of an unsubscribe) and a redelivered file
 * land in `staleCount` days, which become stale; and one fresh day keeps a file of an older build beside its current
 * one (a crash left it), which makes it unusable too.
 */
export async function buildRollupTestLake(seed = 7, staleCount = 2): Promise<RollupTestLake> {
  const lake = buildQueryTestLake({ messages: 500, spanHours: 144, seed });
  const random = seededRandom(seed);
  const partitions = readdirSync(join(lake.dir, 'events'))
    .flatMap((dt) => readdirSync(join(lake.dir, 'events', dt)).map((h) => join(lake.dir, 'events', dt, h)))
    .sort();
  for (const p of [partitions[5]!, partitions[Math.floor(partitions.length / 2)]!]) {
    const [first] = readdirSync(p).sort();
    copyFileSync(join(p, first!), join(p, 'events-1-2026-05-20-00-00-00-redelivered.parquet'));
  }
  const days = [...new Set(lake.rows.map((r) => dayOf(r.event_time)))].sort();
  // Generated traffic holds few unsubscribes and complaints: more of them, every day, some recipients twice.
  const sends = lake.rows.filter((r) => r.event_type === 'send');
  const unsubscribe = lake.rows.find(
    (r) => r.event_type === 'subscription' && r.detail?.includes('"unsubscribeAll":true'),
  )!;
  const complaints = lake.rows.filter((r) => r.event_type === 'complaint');
  const extra: NormalisedEvent[] = [];
  for (const [i, day] of days.entries()) {
    for (let j = 0; j < 8; j++) {
      const send = sends[Math.floor(random() * sends.length)]!;
      const like = j % 2 === 0 ? unsubscribe : complaints[j % complaints.length]!;
      const at = Date.parse(`${day}T00:00:00Z`) + Math.floor(random() * DAY_MS);
      const who = {
        tenant_id: send.tenant_id,
        campaign_id: send.campaign_id,
        message_id: send.message_id,
        recipient: send.recipient,
        recipient_domain: send.recipient_domain,
      };
      extra.push({ ...like, ...who, event_id: `extra-${i}-${j}`, event_time: at });
      if (j < 2) extra.push({ ...like, ...who, event_id: `extra-${i}-${j}-again`, event_time: at + 60_000 });
    }
  }
  writeRawFiles(lake.dir, extra, 'events-1-2026-05-19-00-00-00-extra.parquet');
  lake.rows.push(...extra);
  await rollUpLake(new FsLakeStore(lake.dir), { closedBefore: new Date('2100-01-01T00:00:00Z') });

  // Late events in days that are not the first or last (so whole-day splits can include them).
  const middle = days.slice(1, -1);
  const stale = new Set<string>();
  while (stale.size < Math.min(staleCount, middle.length)) stale.add(middle[Math.floor(random() * middle.length)]!);
  const late: NormalisedEvent[] = [];
  const pick = (f: (r: NormalisedEvent) => boolean) => lake.rows.filter(f).filter(() => random() < 0.3);
  for (const day of stale) {
    const at = (n: number) => Date.parse(`${day}T00:00:00Z`) + Math.floor(random() * DAY_MS) + n;
    // Pairs seen on another day open or click again (by a person or a machine): unique counts must not grow twice.
    for (const r of pick((x) => (x.event_type === 'open' || x.event_type === 'click') && dayOf(x.event_time) !== day))
      late.push({ ...r, event_id: `${r.event_id}-late-${day}`, event_time: at(0), machine_open: random() < 0.5 });
    for (const r of pick((x) => x.event_type === 'bounce' || x.event_type === 'complaint'))
      late.push({ ...r, event_id: `${r.event_id}-late-${day}`, event_time: at(1) });
    for (const r of lake.rows.filter((x) => x.event_type === 'subscription'))
      late.push({ ...r, event_id: `${r.event_id}-late-${day}`, event_time: at(2) });
  }
  writeRawFiles(lake.dir, late, 'events-1-2026-05-21-00-00-00-late.parquet');
  // Redelivered: the late file again, as Firehose may deliver it twice.
  writeRawFiles(lake.dir, late, 'events-1-2026-05-21-00-05-00-late-again.parquet');
  // A crash between writing a build and deleting the old one leaves a file of the old build beside the new one.
  const leftover = days.find((d) => !stale.has(d) && d !== days[0])!;
  const dailyDir = join(lake.dir, 'rollups', 'daily', `dt=${leftover}`);
  const [current] = readdirSync(dailyDir);
  copyFileSync(
    join(dailyDir, current!),
    join(dailyDir, 'sesflow~rollup-2000-01-01-00-00-00-000-0000000000000000.parquet'),
  );
  const rows = [...lake.rows, ...late];
  return {
    dir: lake.dir,
    rows,
    days,
    fresh: await freshDays(lake.dir),
    stale,
    leftover,
    tenants: [...new Set(rows.map((r) => r.tenant_id))].sort(),
    campaigns: [...new Set(rows.map((r) => r.campaign_id))],
  };
}

/** One random case: raw parameters (from, to, the query's own filters) and the server's tenant. */
export interface RandomCase {
  raw: Record<string, string>;
  tenant: string | null;
  label: string;
}

/**
 * Random periods over the lake's days: starting and ending mid-day, on day bounds, empty, within one day, one whole
 * day, several days, open-ended; every tenant or one; with the query's own filters now and then.
 */
export function randomCases(lake: RollupTestLake, query: string, n: number, random: () => number): RandomCase[] {
  const first = Date.parse(`${lake.days[0]}T00:00:00Z`) - DAY_MS;
  const span = (lake.days.length + 2) * DAY_MS;
  const iso = (ms: number) => new Date(ms).toISOString();
  const dayStart = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
  const out: RandomCase[] = [];
  for (let i = 0; i < n; i++) {
    const a = first + Math.floor(random() * span);
    const b = a + Math.floor(random() * 4 * DAY_MS);
    const kind = ['mid', 'bounds', 'mid-to-bound', 'one-day', 'within-day', 'empty', 'open-start', 'open-end'][i % 8]!;
    const raw: Record<string, string> = {};
    if (kind === 'mid') Object.assign(raw, { from: iso(a), to: iso(b) });
    if (kind === 'bounds') Object.assign(raw, { from: iso(dayStart(a)), to: iso(dayStart(b) + DAY_MS) });
    if (kind === 'mid-to-bound') Object.assign(raw, { from: iso(a), to: iso(dayStart(b) + DAY_MS) });
    if (kind === 'one-day') Object.assign(raw, { from: iso(dayStart(a)), to: iso(dayStart(a) + DAY_MS) });
    if (kind === 'within-day')
      Object.assign(raw, { from: iso(a), to: iso(Math.min(a + 3_600_000, dayStart(a) + DAY_MS)) });
    if (kind === 'empty') Object.assign(raw, { from: iso(a), to: iso(a) });
    if (kind === 'open-start') raw.to = iso(random() < 0.5 ? a : dayStart(a));
    if (kind === 'open-end') raw.from = iso(random() < 0.5 ? a : dayStart(a));
    if (random() < 0.3) {
      if (query === 'campaign-report' || query === 'unsubscribes') {
        const c = lake.campaigns.filter((x) => x !== null);
        raw.campaign = random() < 0.2 ? 'edge-launch' : (c[Math.floor(random() * c.length)] ?? 'none');
      }
      if (query === 'domain-deliverability') {
        raw.provider = ['Gmail', 'Outlook/Hotmail', 'Yahoo', 'Apple iCloud', 'other'][Math.floor(random() * 5)]!;
      }
      if (query === 'bounce-breakdown') raw.top = String(1 + Math.floor(random() * 3));
    }
    const tenant = random() < 0.4 ? null : lake.tenants[Math.floor(random() * lake.tenants.length)]!;
    out.push({ raw, tenant, label: `${query} #${i} ${kind} ${JSON.stringify(raw)} tenant=${tenant}` });
  }
  return out;
}

/**
 * A random valid split of a period: a run of consecutive `usable` days lying wholly inside [from, to), any sub-run
 * of it, not only the longest; now and then none, or an empty one (day_from = day_to).
 */
export function randomSplit(p: OracleParams, usable: ReadonlySet<string>, random: () => number): WholeDays | null {
  const from = p.from == null ? Number.NEGATIVE_INFINITY : Date.parse(`${String(p.from).replace(' ', 'T')}Z`);
  const to = p.to == null ? Number.POSITIVE_INFINITY : Date.parse(`${String(p.to).replace(' ', 'T')}Z`);
  const inside = [...usable]
    .map((d) => Date.parse(`${d}T00:00:00Z`))
    .filter((d) => d >= from && d + DAY_MS <= to)
    .sort((a, b) => a - b);
  const r = random();
  if (inside.length === 0 || r < 0.1) return null;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  if (r < 0.15) return { from: day(inside[0]!), to: day(inside[0]!) };
  const start = Math.floor(random() * inside.length);
  let end = start;
  while (end + 1 < inside.length && inside[end + 1] === inside[end]! + DAY_MS && random() < 0.75) end++;
  return { from: day(inside[start]!), to: day(inside[end]! + DAY_MS) };
}

/** One random case ready to run: its validated values, its random split, and the oracle's rows. */
export interface CheckedCase extends RandomCase {
  split: WholeDays | null;
  want: OracleRow[];
}

/**
 * Runs `check` on `n` seeded random cases of a query, each with a random split over the lake's usable days and the
 * oracle's answer; returns how many read whole days from rollups and how many had rows (so a test can show it was
 * not vacuous).
 */
export async function forRandomCases(
  lake: RollupTestLake,
  name: string,
  n: number,
  seed: number,
  check: (c: CheckedCase, label: string) => Promise<void>,
): Promise<{ withWholeDays: number; nonEmpty: number }> {
  const random = seededRandom(seed);
  const query = getNamedQuery(name);
  let withWholeDays = 0;
  let nonEmpty = 0;
  for (const c of randomCases(lake, name, n, random)) {
    const values = validateParams(query, c.raw, { tenant: c.tenant });
    const split = randomSplit(values, lake.fresh, random);
    const want = expectedRows(name, lake.rows, values);
    await check({ ...c, split, want }, `${c.label} split=${JSON.stringify(split)}`);
    if (split && split.from !== split.to) withWholeDays++;
    if (want.length > 0) nonEmpty++;
  }
  return { withWholeDays, nonEmpty };
}
