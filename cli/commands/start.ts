import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { describeError, UsageError } from '../../lib/errors';
import { areaServices } from '../../local/composition-root';
import { readLocalConfig } from '../../local/config';
import { type RunningPipeline, startLocalPipeline } from '../../local/pipeline';
import { parseOptions } from './parse-options';

const num = (flag: string) => z.coerce.number({ error: `${flag} must be a number` });

const StartOptionsSchema = z.object({
  dataDir: z.string().optional(),
  lake: z.string().optional(),
  fresh: z.boolean(),
  tenants: num('--tenants').int().min(1, '--tenants must be at least 1').max(100, '--tenants must be at most 100'),
  seed: num('--seed').int(),
  rate: num('--rate').min(0, '--rate must be 0 or more'),
  history: num('--history').int().min(0, '--history must be 0 or more'),
  timeFactor: num('--time-factor').positive('--time-factor must be above 0').max(1, '--time-factor must be at most 1'),
  maxSendRate: num('--max-send-rate').positive('--max-send-rate must be above 0'),
  traffic: z.boolean(),
  lakeS3: z.boolean(),
  runFor: num('--run-for').positive('--run-for must be above 0').optional(),
  compactEvery: num('--compact-every').min(0, '--compact-every must be 0 or more'),
  sso: z.boolean(),
});

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the whole pipeline locally: stand-ins, demo tenants, simulated traffic (Ctrl-C stops it)')
    .option('--data-dir <dir>', 'where everything is kept (default ./.sesflow, or SESFLOW_DATA_DIR)')
    .option('--lake <dir>', 'lake directory (default <data-dir>/lake)')
    .option('--fresh', 'delete the data directory first', false)
    .option('--tenants <n>', 'demo tenants (the 4th, umbrella, is a bad sender)', '5')
    .option('--seed <s>', 'seed of the traffic model', '1')
    .option('--rate <n>', 'live messages per second through the SES simulator', '5')
    .option('--history <n>', 'messages of the past 24 h loaded on a fresh data dir (0: none)', '10000')
    .option('--time-factor <f>', 'wall-clock delay of later events = model delay x f', '0.02')
    .option('--max-send-rate <n>', "the simulated account's MaxSendRate (recipients per second)", '50')
    .option('--no-traffic', 'no live traffic')
    .option('--lake-s3', 'write the lake to the S3 bucket on fauxqs (in memory) instead of --lake', false)
    .option('--run-for <seconds>', 'stop by itself after this long (scripted checks)')
    .option('--compact-every <minutes>', 'compact the closed hours of the lake this often (0: never)', '10')
    .option(
      '--sso',
      'dashboard sign-in through a local OpenID Connect provider (demo users) instead of API keys',
      false,
    )
    .addHelpText(
      'after',
      '\nPorts (override with SESFLOW_PORT_DYNAMODB, _FAUXQS, _KINESIS, _SES, _FIREHOSE): 8000, 4566, 4568, 4579, 4573;\na busy port falls back to a free one. Endpoints are written to <data-dir>/endpoints.json.',
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(StartOptionsSchema, raw);
      const config = readLocalConfig(o.dataDir ? { ...process.env, SESFLOW_DATA_DIR: o.dataDir } : process.env);
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const started = Date.now();
      out(`sesflow: starting the local pipeline in ${config.dataDir}${o.fresh ? ' (fresh)' : ''} ...`);
      // Signals are handled from the start: a Ctrl-C while services are starting stops them once they are up, so no
      // child process (DynamoDB Local's Java) is ever left behind.
      let stopRequested = false;
      let wake: (() => void) | undefined;
      let timer: NodeJS.Timeout | undefined;
      const onSignal = () => {
        if (stopRequested) return;
        stopRequested = true;
        if (timer) clearTimeout(timer);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // A second Ctrl-C during shutdown exits at once.
        process.once('SIGINT', () => process.exit(130));
        wake?.();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let pipeline: RunningPipeline;
      try {
        pipeline = await startLocalPipeline({
          config,
          lakeDir: o.lake ? resolve(o.lake) : undefined,
          fresh: o.fresh,
          tenants: o.tenants,
          seed: o.seed,
          timeFactor: o.timeFactor,
          maxSendRate: o.maxSendRate,
          historyMessages: o.history,
          trafficRate: o.traffic ? o.rate : 0,
          lakeStore: o.lakeS3 ? 's3' : 'fs',
          compactEveryMs: o.compactEvery * 60_000,
          // The areas' services (local/composition-root.ts): after the history, before live traffic.
          extensions: areaServices({ sso: o.sso }),
          log: (line) => out(`  ${line}`),
        });
      } catch (err) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        throw new UsageError(`could not start the local pipeline: ${describeError(err)}`);
      }
      if (!stopRequested) {
        const width = Math.max(...pipeline.ctx.links.map((l) => l.label.length));
        out(`\nsesflow is running (up in ${((Date.now() - started) / 1000).toFixed(1)} s):`);
        for (const l of pipeline.ctx.links) out(`  ${l.label.padEnd(width)}  ${l.url}`);
        out(`  ${'endpoints file'.padEnd(width)}  ${config.dataDir}/endpoints.json`);
        out('\nPress Ctrl-C to stop. Data stays in the data directory; --fresh starts over.');
        await new Promise<void>((resolveWait) => {
          wake = resolveWait;
          if (o.runFor) timer = setTimeout(onSignal, o.runFor * 1000);
        });
      }
      out('\nsesflow: stopping ...');
      const traffic = pipeline.ctx.shared.traffic;
      const sim = pipeline.ctx.shared.sesSimulator;
      await pipeline.stop();
      if (traffic) {
        const s = traffic.stats;
        out(
          `  traffic: ${s.sent} sent, ${s.refusedPaused} refused (paused), ${s.throttled} throttled, ${s.failed} failed`,
        );
      }
      if (sim) out(`  ses-simulator: ${sim.simulator.stats.published} event records published`);
      out('sesflow: stopped.');
    });
}
