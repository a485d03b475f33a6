import { dashboardsBenchmark } from './dashboards.bench';
import { ingestBenchmark } from './ingest.bench';
import { localBenchmark } from './local.bench';
import { postgresBenchmark } from './postgres.bench';
import { pushBenchmark } from './push.bench';
import { reputationBenchmark } from './reputation.bench';
import { scaleBenchmark } from './scale.bench';
import { sendLoadBenchmark } from './send-load.bench';

/**
 * Benchmarks run by `npm run bench` (`sesflow bench [name]`). Each prints its figures side by side with its baseline
 * and returns them, so docs/BENCHMARKS.md can be written from a run. One file per benchmark, listed here.
 */
export interface BenchResult {
  name: string;
  /** Lines to print, already formatted (figure, baseline, ratio). */
  lines: string[];
  /** Raw figures for the record. */
  figures: Record<string, number | string>;
}

export interface Benchmark {
  name: string;
  description: string;
  run(options: { quick: boolean; log: (line: string) => void }): Promise<BenchResult>;
}

export const BENCHMARKS: Benchmark[] = [
  ingestBenchmark,
  dashboardsBenchmark,
  localBenchmark,
  reputationBenchmark,
  postgresBenchmark,
  sendLoadBenchmark,
  pushBenchmark,
  scaleBenchmark,
];
