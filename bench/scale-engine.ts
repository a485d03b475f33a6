import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const here = dirname(fileURLToPath(import.meta.url));
const REQUESTS = 20;
const WARMUPS = 3;
export const TARGETS = { rssMb: 2048, coldStartS: 15, p95Ms: 200 } as const;
const DAY_MS = 86_400_000;

/** GET over node:http (fetch gives up on answers over 300 s; the first request may load a whole lake). */
export function httpGet(url: string, key: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'x-api-key': key } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET that must answer 200; the body. */
export async function getOk(url: string, key: string): Promise<string> {
  const r = await httpGet(url, key);
  if (r.status !== 200) throw new Error(`${url} answered ${r.status}: ${r.body.slice(0, 200)}`);
  return r.body;
}

/** The tenant with the most events (the heaviest report a client key asks for). */
export async function largestTenant(lakeDir: string): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  try {
    const glob = join(lakeDir, 'events', '*', '*', '*.parquet').replaceAll("'", "''");
    const rows = (
      await conn.runAndReadAll(
        `SELECT tenant_id FROM read_parquet('${glob}') GROUP BY tenant_id ORDER BY count(*) DESC, tenant_id LIMIT 1`,
      )
    ).getRowObjectsJS() as { tenant_id: string }[];
    return rows[0]!.tenant_id;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** A running Reports API server in its own process (bench/scale-engine-child.ts). */
export interface EngineProcess {
  url: string;
  pid: number;
  /** Seconds from spawn to listening. */
  listenS: number;
  startedAt: number;
  /** Current and peak RSS (VmRSS, VmHWM) in MB. */
  rss(): { rssMb: number; peakMb: number };
  stop(): Promise<void>;
}

/** Starts the server over `lakeDir`; with `engineFile`, its engine keeps the rollup tables there (as `sesflow start`). */
export async function startEngineProcess(lakeDir: string, tenant: string, engineFile?: string): Promise<EngineProcess> {
  const startedAt = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'scale-engine-child.ts'), lakeDir, tenant, engineFile ?? ''],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      const line = buf.split('\n')[0];
      if (buf.includes('\n') && line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`the Reports API server exited (${code}) before listening`)));
    child.once('error', reject);
  });
  const listenS = (performance.now() - startedAt) / 1000;
  const pid = child.pid!;
  return {
    url,
    pid,
    listenS,
    startedAt,
    rss() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin!.end();
      }),
  };
}

/** One request a dashboard view makes: label, path, key. */
type ViewRequest = [label: string, path: string, key: string];

/**
 * The requests the two views make (dashboards/web/app.js): the compliance view (tenant list, a tenant's page, its
 * email report) and the client view (its email report and its own tenant's checks). A report page asks for
 * tenant-summary and the five report tables at once; the default period is the last 7 days up to tomorrow, the
 * 30-day period is what a user picks with the date fields.
 */
export function viewRequests(tenant: string, lakeTo: string): Record<string, ViewRequest[]> {
  const end = Date.parse(`${lakeTo}T00:00:00Z`);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const periods = [
    ['7 d', `from=${day(end - 6 * DAY_MS)}&to=${day(end + DAY_MS)}`],
    ['30 d', `from=${day(end - 30 * DAY_MS)}&to=${day(end)}`],
  ] as const;
  const reports = [
    'tenant-summary',
    'daily-timeseries',
    'campaign-report',
    'domain-deliverability',
    'bounced-recipients',
    'unsubscribes',
  ];
  const t = encodeURIComponent(tenant);
  const reportPage = (who: 'compliance' | 'client'): ViewRequest[] =>
    periods.flatMap(([p, range]) =>
      reports.map(
        (r): ViewRequest => [
          `${who}: ${r}, ${p}`,
          `/v1/reports/${r}?${range}${who === 'compliance' ? `&tenant=${t}` : ''}`,
          `bench-${who}`,
        ],
      ),
    );
  return {
    compliance: [
      ['compliance: me', '/v1/me', 'bench-compliance'],
      ['compliance: tenant list', '/v1/tenants', 'bench-compliance'],
      ['compliance: tenant page', `/v1/tenants/${t}`, 'bench-compliance'],
      ['compliance: tenant audit', `/v1/tenants/${t}/audit`, 'bench-compliance'],
      ...reportPage('compliance'),
    ],
    client: [
      ['client: me', '/v1/me', 'bench-client'],
      ['client: own tenant', `/v1/tenants/${t}`, 'bench-client'],
      ...reportPage('client'),
    ],
  };
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

export interface EngineFigures {
  listenS: number;
  /** Spawn → the client view's first page (me, then its six reports and its tenant at once) answered. */
  coldStartS: number;
  /**
   * With an engine file: a restart on the file the measured run left (spawn → the same first page answered), and
   * its peak RSS; the file's size. Null without one.
   */
  restart: { coldStartS: number; peakRssMb: number; fileMb: number } | null;
  peakRssMb: number;
  rssAfterMb: number;
  requests: { label: string; p50: number; p95: number; max: number }[];
  /** A whole report page (its requests at once, as the page sends them), p50/p95. */
  pages: { label: string; p50: number; p95: number }[];
  worstP95: number;
}

/**
 * Cold start, peak RSS and per-request p50/p95 of the Reports API over a lake, through its public HTTP interface
 * (whatever engine the server runs).
 */
export async function measureEngine(
  lakeDir: string,
  tenant: string,
  lakeTo: string,
  log: (line: string) => void,
  /** More requests on the same server once the views are measured (the PostgreSQL comparison). */
  extra?: (base: string, get: (url: string, key: string) => Promise<string>) => Promise<void>,
  /**
   * The engine's DuckDB file, as `sesflow start` keeps one (removed first, so the measured start is a first start that
   * loads every rolled-up day; then a restart on the file it left is measured, and the file removed). Default: none,
   * the engine in memory.
   */
  engineFile?: string,
): Promise<EngineFigures> {
  const views = viewRequests(tenant, lakeTo);
  // Cold start: spawn → the client view's first page answered, as a browser loads it.
  const firstPage = async (engine: EngineProcess) => {
    await getOk(engine.url + views.client![0]![1], 'bench-client');
    const first = views.client!.filter(([l]) => l.endsWith(', 7 d') || l.includes('own tenant'));
    await Promise.all(first.map(([, path, key]) => getOk(engine.url + path, key)));
    return (performance.now() - engine.startedAt) / 1000;
  };
  const removeEngineFile = () => {
    if (engineFile) for (const f of [engineFile, `${engineFile}.wal`]) rmSync(f, { force: true });
  };
  removeEngineFile();
  const engine = await startEngineProcess(lakeDir, tenant, engineFile);
  let figures: Omit<EngineFigures, 'restart'>;
  try {
    const base = engine.url;
    const coldStartS = await firstPage(engine);
    log(
      `  listening after ${engine.listenS.toFixed(1)} s, first client page answered after ${coldStartS.toFixed(1)} s (RSS ${engine.rss().rssMb.toFixed(0)} MB)`,
    );
    const requests: EngineFigures['requests'] = [];
    for (const list of Object.values(views)) {
      for (const [label, path, key] of list) {
        const times: number[] = [];
        for (let i = 0; i < REQUESTS + WARMUPS; i++) {
          const s = performance.now();
          await getOk(base + path, key);
          if (i >= WARMUPS) times.push(performance.now() - s);
        }
        times.sort((a, b) => a - b);
        const r = { label, p50: percentile(times, 50), p95: percentile(times, 95), max: times[times.length - 1]! };
        requests.push(r);
        log(`  ${label.padEnd(46)} p50 ${r.p50.toFixed(0).padStart(6)} ms  p95 ${r.p95.toFixed(0).padStart(6)} ms`);
      }
    }
    const pages: EngineFigures['pages'] = [];
    for (const [who, list] of Object.entries(views)) {
      for (const period of ['7 d', '30 d']) {
        const page = list.filter(([l]) => l.endsWith(`, ${period}`));
        const times: number[] = [];
        for (let i = 0; i < 10 + 2; i++) {
          const s = performance.now();
          await Promise.all(page.map(([, path, key]) => getOk(base + path, key)));
          if (i >= 2) times.push(performance.now() - s);
        }
        times.sort((a, b) => a - b);
        pages.push({ label: `${who} report page, ${period}`, p50: percentile(times, 50), p95: percentile(times, 95) });
      }
    }
    if (extra) await extra(base, getOk);
    const rss = engine.rss();
    figures = {
      listenS: engine.listenS,
      coldStartS,
      peakRssMb: rss.peakMb,
      rssAfterMb: rss.rssMb,
      requests,
      pages,
      worstP95: Math.max(...requests.map((r) => r.p95)),
    };
  } finally {
    await engine.stop();
  }
  if (!engineFile) return { ...figures, restart: null };
  try {
    const fileMb = statSync(engineFile).size / 1024 / 1024;
    const again = await startEngineProcess(lakeDir, tenant, engineFile);
    try {
      const coldStartS = await firstPage(again);
      log(
        `  restart on the engine file it left (${fileMb.toFixed(0)} MB): first client page answered after ${coldStartS.toFixed(1)} s (RSS ${again.rss().rssMb.toFixed(0)} MB)`,
      );
      return { ...figures, restart: { coldStartS, peakRssMb: again.rss().peakMb, fileMb } };
    } finally {
      await again.stop();
    }
  } finally {
    removeEngineFile();
  }
}
