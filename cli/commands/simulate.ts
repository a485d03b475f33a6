import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Command } from 'commander';
import { z } from 'zod';
import { UsageError } from '../../lib/errors';
import { formatProgressBar, writeNdjson } from '../../local/ndjson-output';
import { generateTraffic } from '../../local/traffic-model';
import { parseOptions } from './parse-options';

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be at least 1`);

const SimulateOptionsSchema = z.object({
  out: z.string().min(1, '--out needs a file name or -'),
  tenants: positiveInt('--tenants').max(10_000, '--tenants must be at most 10000'),
  messages: positiveInt('--messages'),
  seed: z.coerce.number({ error: '--seed must be a number' }).int('--seed must be a whole number'),
  start: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      const t = Date.parse(s);
      if (Number.isNaN(t)) {
        ctx.addIssue({ code: 'custom', message: `--start is not an ISO 8601 time: ${s}` });
        return z.NEVER;
      }
      return new Date(t);
    }),
  spanHours: z.coerce.number({ error: '--span-hours must be a number' }).positive('--span-hours must be above 0'),
  maxRecords: positiveInt('--max-records').optional(),
  gzip: z.boolean().optional(),
  order: z.enum(['event-time', 'message'], { error: '--order must be event-time or message' }),
  progress: z.boolean(),
});

/** Default start: the top of the hour 24 h ago, so a day of traffic ends about now. */
function defaultStart(): Date {
  const t = Date.now() - 24 * 3600_000;
  return new Date(t - (t % 3600_000));
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('write realistic SES event records (NDJSON, as SES writes to Firehose) for N tenants, seeded')
    .requiredOption('--out <file>', 'output file, or - for stdout (gzip when --gzip or the name ends in .gz)')
    .option('--tenants <n>', 'number of demo tenants (every tenant at index 3, 13, 23, ... is a bad sender)', '10')
    .option('--messages <n>', 'messages to send (each has 1-3 recipients and several events)', '10000')
    .option('--seed <s>', 'random seed: the same seed gives the same records', '1')
    .option('--start <iso>', 'time of the first send (default: 24 h ago, on the hour)')
    .option('--span-hours <h>', 'hours the sends are spread over', '24')
    .option('--max-records <n>', 'stop after this many records')
    .option('--gzip', 'gzip the output')
    .option(
      '--order <order>',
      "event-time (records in time order) or message (each message's records together: about twice as fast)",
      'event-time',
    )
    .option('--no-progress', 'no progress bar (it is shown only when stderr is a terminal)')
    .addHelpText(
      'after',
      '\nExamples:\n  sesflow simulate --out traffic.ndjson.gz --tenants 50 --messages 100000\n  sesflow simulate --out - --messages 100 | head',
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(SimulateOptionsSchema, raw);
      const toStdout = o.out === '-';
      const gzip = o.gzip ?? (!toStdout && o.out.endsWith('.gz'));
      const file: Writable = toStdout ? process.stdout : createWriteStream(o.out);
      let sink: Writable = file;
      if (gzip) {
        const z = createGzip({ level: 6 });
        z.pipe(file);
        sink = z;
      }
      // A reader that stops early (`| head`) closes the pipe: that ends the run quietly, it is not an error.
      const closedEarly = Symbol('closed');
      const fileError = new Promise<typeof closedEarly>((resolve, reject) => {
        file.once('error', (err: NodeJS.ErrnoException) =>
          err.code === 'EPIPE' ? resolve(closedEarly) : reject(new UsageError(`cannot write ${o.out}: ${err.message}`)),
        );
      });
      fileError.catch(() => {});
      const showBar = o.progress && process.stderr.isTTY === true;
      const started = Date.now();
      let lastDraw = 0;
      const draw = (p: { records: number; messages: number }, force = false) => {
        const now = Date.now();
        if (!showBar || (!force && now - lastDraw < 150)) return;
        lastDraw = now;
        const rate = Math.round(p.records / Math.max(0.001, (now - started) / 1000));
        process.stderr.write(
          `\r${formatProgressBar(p.messages, o.messages, `${p.records.toLocaleString('en-US')} records, ${rate.toLocaleString('en-US')}/s`)}`,
        );
      };
      const records = generateTraffic({
        seed: o.seed,
        tenants: o.tenants,
        messages: o.messages,
        start: o.start ?? defaultStart(),
        spanHours: o.spanHours,
        maxRecords: o.maxRecords,
        order: o.order,
      });
      const result = await Promise.race([writeNdjson(records, sink, draw), fileError]);
      if (result === closedEarly) return;
      if (sink !== file) {
        sink.end();
        await Promise.race([finished(sink), fileError]);
      }
      if (toStdout) {
        await Promise.race([new Promise<void>((resolve) => process.stdout.write('', () => resolve())), fileError]);
      } else {
        if (sink === file) file.end();
        await Promise.race([finished(file), fileError]);
      }
      if (showBar) {
        draw(result, true);
        process.stderr.write('\n');
      }
      if (!toStdout) {
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        process.stderr.write(
          `wrote ${result.records.toLocaleString('en-US')} records (${result.messages.toLocaleString('en-US')} messages, ${o.tenants} tenants, seed ${o.seed}) to ${o.out}${gzip ? ' (gzip)' : ''} in ${secs} s\n`,
        );
      }
    });
}
