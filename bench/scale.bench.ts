import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchResult } from './index';
import { measureAthenaProxy } from './scale-athena';
import { type EngineFigures, getOk, largestTenant, measureEngine, startEngineProcess, TARGETS } from './scale-engine';
import { ensureScaleLake, eventLabel, freeDisk, gb, parseEventCount, type ScaleLake } from './scale-lake';
import { measureApiScenarios, measurePostgres, pgScenarios } from './scale-postgres';

/** PostgreSQL's baseline runs at this size (its copy of 100 M events would not fit the disk). */
const POSTGRES_AT = 10_000_000;
const PG_TARGET_RATIO = 5;

/** The parts of the scale benchmark, in the order they run; SESFLOW_BENCH_SCALE_PARTS picks some. */
const PARTS = ['build', 'engine', 'postgres', 'athena'] as const;
type Part = (typeof PARTS)[number];

/**
 * Settings from the environment (`npm run bench` takes benchmark names only):
 * - SESFLOW_BENCH_SCALE_EVENTS: lake sizes, comma-separated (default `1M`; `--quick`: `100k`): 1M, 10M, 100M;
 * - SESFLOW_BENCH_SCALE_DIR: where the lakes are built and kept between runs (default: the OS temp dir);
 * - SESFLOW_BENCH_SCALE_PARTS: build, engine, postgres, athena (default: all; postgres runs at 10 M only).
 */
export function readScaleSettings(
  env: NodeJS.ProcessEnv,
  quick: boolean,
): { sizes: number[]; dir: string; parts: Set<Part> } {
  const sizes = (env.SESFLOW_BENCH_SCALE_EVENTS ?? (quick ? '100k' : '1M')).split(',').map(parseEventCount);
  const dir = env.SESFLOW_BENCH_SCALE_DIR ?? join(tmpdir(), 'sesflow-bench-scale');
  const asked = (env.SESFLOW_BENCH_SCALE_PARTS ?? PARTS.join(',')).split(',').map((p) => p.trim());
  const unknown = asked.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length)
    throw new Error(`SESFLOW_BENCH_SCALE_PARTS: unknown part ${unknown.join(', ')} (${PARTS.join(', ')})`);
  return { sizes, dir, parts: new Set(asked as Part[]) };
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

function buildLines(lake: ScaleLake): string[] {
  const label = eventLabel(lake.target);
  const c = lake.cost;
  const cpu = c.simulate.cpuS + c.ingest.cpuS + c.compact.cpuS;
  return [
    `build ${label}: ${n(lake.rows)} events, ${lake.from} to ${lake.to}, ${lake.chunks} chunks of ${lake.chunkDays} days: ${n(lake.build.wallS)} s wall, ${n(cpu)} CPU-s`,
    `  simulate ${n(c.simulate.wallS)} s (${n(c.simulate.cpuS)} CPU-s, peak RSS ${n(c.simulate.maxRssMb)} MB), ingest ${n(c.ingest.wallS)} s (${n(c.ingest.cpuS)} CPU-s, ${n(c.ingest.maxRssMb)} MB), compact ${n(c.compact.wallS)} s in ${c.compact.runs} runs (${n(c.compact.cpuS)} CPU-s, ${n(c.compact.maxRssMb)} MB)`,
    `  disk: compacted lake ${gb(lake.build.lakeBytes)} (${(lake.build.lakeBytes / Math.max(1, lake.rows)).toFixed(0)} B/event), input ${gb(lake.build.inputBytes)} gzip NDJSON in all (deleted chunk by chunk), peak ${gb(lake.build.peakDiskBytes)}`,
    ...(lake.recompact
      ? [`  reused: re-compacted in ${lake.recompact.wallS.toFixed(0)} s (${lake.recompact.cpuS.toFixed(0)} CPU-s)`]
      : []),
  ];
}

function engineLines(label: string, e: EngineFigures): string[] {
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  return [
    `  ${label}: cold start ${e.coldStartS.toFixed(1)} s (listening after ${e.listenS.toFixed(1)} s) vs < ${TARGETS.coldStartS} s: ${verdict(e.coldStartS < TARGETS.coldStartS)}; peak RSS ${e.peakRssMb.toFixed(0)} MB (${e.rssAfterMb.toFixed(0)} MB at the end) vs < ${TARGETS.rssMb} MB: ${verdict(e.peakRssMb < TARGETS.rssMb)}`,
    ...e.requests.map(
      (r) =>
        `  ${r.label.padEnd(46)} p50 ${r.p50.toFixed(0).padStart(6)} ms  p95 ${r.p95.toFixed(0).padStart(6)} ms  max ${r.max.toFixed(0).padStart(6)} ms`,
    ),
    ...e.pages.map(
      (p) =>
        `  ${`${p.label} (its requests at once)`.padEnd(46)} p50 ${p.p50.toFixed(0).padStart(6)} ms  p95 ${p.p95.toFixed(0).padStart(6)} ms`,
    ),
    `  ${label}: worst p95 of a single request ${e.worstP95.toFixed(0)} ms vs < ${TARGETS.p95Ms} ms: ${verdict(e.worstP95 < TARGETS.p95Ms)}`,
    ...(e.restart
      ? [
          `  ${label}: restart on the engine file (${e.restart.fileMb.toFixed(0)} MB) ${e.restart.coldStartS.toFixed(1)} s to the first client page vs < ${TARGETS.coldStartS} s: ${verdict(e.restart.coldStartS < TARGETS.coldStartS)}; peak RSS ${e.restart.peakRssMb.toFixed(0)} MB`,
        ]
      : []),
  ];
}

/**
 * The scale benchmark of issue #17: lakes of 1 M, 10 M (and 100 M) events built with the CLI, the reports engine's
 * cold start, memory and latency on them, PostgreSQL baselines at 10 M and an Athena bytes-read proxy.
 */
export const scaleBenchmark: Benchmark = {
  name: 'scale',
  description:
    'lakes of 1 M / 10 M / 100 M events (500 tenants, 90 days): build cost, reports engine, PostgreSQL baselines, Athena bytes read',
  async run({ quick, log }): Promise<BenchResult> {
    const settings = readScaleSettings(process.env, quick);
    const lines: string[] = [];
    const figures: Record<string, number | string> = {
      cpus: cpus().length,
      'memory GB': Number((totalmem() / 1e9).toFixed(1)),
      'load average before': loadavg()[0]!.toFixed(2),
      'free disk before GB': Number((freeDisk(settings.dir) / 1e9).toFixed(1)),
    };
    const out = (line: string) => {
      lines.push(line);
      log(line);
    };
    let largest: ScaleLake | null = null;
    for (const target of settings.sizes) {
      const label = eventLabel(target);
      const lake = await ensureScaleLake({ cacheDir: settings.dir, target, log });
      if (lake && (!largest || lake.rows > largest.rows)) largest = lake;
      if (!lake) {
        out(`scale ${label}: no lake, every measurement at ${label} skipped (see above)`);
        continue;
      }
      for (const l of buildLines(lake)) out(l);
      figures[`${label} events`] = lake.rows;
      figures[`${label} build wall s`] = Math.round(lake.build.wallS);
      figures[`${label} lake bytes`] = lake.build.lakeBytes;
      const wants = (p: Part) => settings.parts.has(p);
      if (!wants('engine') && !wants('postgres') && !wants('athena')) continue;
      const tenant = await largestTenant(lake.dir);
      const pgRun =
        wants('postgres') && (target === POSTGRES_AT || process.env.SESFLOW_BENCH_SCALE_POSTGRES_AT === label);
      const scenarios = pgScenarios(tenant, lake.to);
      const pg = pgRun ? await measurePostgres({ cacheDir: settings.dir, label, lake, scenarios, log }) : null;
      if (pgRun && !pg) out(`postgres ${label}: not measured (see the line above)`);
      if (pg) for (const l of pg.lines) out(l);
      if (pg)
        Object.assign(figures, Object.fromEntries(Object.entries(pg.figures).map(([k, v]) => [`${label} ${k}`, v])));
      if (wants('engine') || pg) {
        let api: Awaited<ReturnType<typeof measureApiScenarios>> = [];
        if (wants('engine')) {
          out(
            `reports engine ${label} (the dashboard server in its own process; tenant ${tenant} for the client key):`,
          );
          const e = await measureEngine(
            lake.dir,
            tenant,
            lake.to,
            log,
            async (base, get) => {
              if (pg) api = await measureApiScenarios(base, scenarios, pg.answers, get);
            },
            // The engine keeps its tables in a DuckDB file, as `sesflow start` does (beside the lake, not in memory).
            join(settings.dir, `engine-${label}.duckdb`),
          );
          for (const l of engineLines(label, e)) out(l);
          figures[`${label} cold start s`] = Number(e.coldStartS.toFixed(1));
          figures[`${label} peak RSS MB`] = Math.round(e.peakRssMb);
          if (e.restart) figures[`${label} restart cold start s`] = Number(e.restart.coldStartS.toFixed(1));
          figures[`${label} worst p95 ms`] = Number(e.worstP95.toFixed(1));
          for (const r of e.requests) figures[`${label} ${r.label} p95 ms`] = Number(r.p95.toFixed(1));
        } else if (pg) {
          // PostgreSQL's comparison alone: the engine answers its scenarios, the views are not measured.
          const engine = await startEngineProcess(lake.dir, tenant);
          try {
            api = await measureApiScenarios(engine.url, scenarios, pg.answers, getOk);
          } finally {
            await engine.stop();
          }
        }
        if (pg) {
          out(
            `PostgreSQL ${label} vs the reports engine (Reports API over HTTP), medians of 5 after a warm-up, answers equal:`,
          );
          let worst = Number.POSITIVE_INFINITY;
          for (const a of api) {
            const p = pg.answers.get(a.label)!;
            const rawRatio = p.rawMs / a.ms;
            const rollRatio = p.rollupMs / a.ms;
            worst = Math.min(worst, rawRatio, rollRatio);
            figures[`${label} ${a.label} engine ms`] = Number(a.ms.toFixed(1));
            figures[`${label} ${a.label} pg raw ms`] = Number(p.rawMs.toFixed(1));
            figures[`${label} ${a.label} pg rollup ms`] = Number(p.rollupMs.toFixed(1));
            out(
              `  ${a.label.padEnd(38)} engine ${a.ms.toFixed(0).padStart(6)} ms | PG raw ${p.rawMs.toFixed(0).padStart(6)} ms ${rawRatio.toFixed(1).padStart(6)}x | PG rollups ${p.rollupMs.toFixed(0).padStart(6)} ms ${rollRatio.toFixed(1).padStart(6)}x  (${a.rows} rows)`,
            );
          }
          if (api.length)
            out(
              `  worst ratio ${worst.toFixed(1)}x vs target >= ${PG_TARGET_RATIO}x against both: ${worst >= PG_TARGET_RATIO ? 'met' : 'NOT met'}`,
            );
        }
      }
      if (wants('athena')) {
        const a = await measureAthenaProxy({
          lakeDir: lake.dir,
          cacheDir: settings.dir,
          label,
          tenant,
          lakeTo: lake.to,
          log,
        });
        for (const l of a.lines) out(l);
        for (const [k, v] of Object.entries(a.figures)) figures[`${label} athena ${k}`] = v;
      }
    }
    if (largest && !settings.sizes.includes(1e8)) {
      // 100 M is built only when asked for (and when the disk check passes): estimated from the largest lake here.
      const k = 1e8 / largest.rows;
      const c = largest.cost;
      out(
        `estimate 100M from the ${eventLabel(largest.target)} build (linear in events): ${((largest.build.wallS * k) / 3600).toFixed(1)} h wall, ${(((c.simulate.cpuS + c.ingest.cpuS + c.compact.cpuS) * k) / 3600).toFixed(1)} CPU-h, lake ${gb(largest.build.lakeBytes * k)}, ${gb(freeDisk(settings.dir))} free now`,
      );
    }
    figures['load average after'] = loadavg()[0]!.toFixed(2);
    out(
      `1-minute load average: ${figures['load average before']} before, ${figures['load average after']} after (${cpus().length} CPUs)`,
    );
    return { name: 'scale', lines, figures };
  },
};
