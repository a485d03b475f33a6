import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { formatFindings, runDoctor } from '../../deploy/doctor/doctor';
import { awsTarget, type DoctorTarget, localTarget } from '../../deploy/doctor/targets';
import { STAGES } from '../../deploy/serverless-cli';
import { UsageError } from '../../lib/errors';
import { parseOptions } from './parse-options';

const num = (flag: string) => z.coerce.number({ error: `${flag} must be a number` });

const DoctorOptionsSchema = z.object({
  dataDir: z.string().optional(),
  stage: z.enum(STAGES, { error: `--stage must be one of ${STAGES.join(', ')}` }).optional(),
  region: z.string().optional(),
  minutes: num('--minutes').positive('--minutes must be above 0'),
  maxLag: num('--max-lag').min(0, '--max-lag must be 0 or more'),
  at: z.string().optional(),
  format: z.enum(['text', 'json'], { error: '--format must be text or json' }),
});

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check a deployment and say what is wrong: event destinations, recent events per tenant, dead letters, consumer lag',
    )
    .option('--data-dir <dir>', 'the local pipeline to check (default ./.sesflow, or SESFLOW_DATA_DIR)')
    .option('--stage <stage>', `check a deployed AWS stage instead (${STAGES.join(', ')}; AWS credentials needed)`)
    .option('--region <region>', 'AWS region of --stage (default AWS_REGION, else us-east-1)')
    .option('--minutes <n>', 'every tenant must have events in the last N minutes', '15')
    .option('--max-lag <seconds>', 'a stream consumer further behind than this is a problem', '300')
    .option('--at <iso>', 'evaluate as of this time (default: now)')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText('after', '\nExit code: 0 when no problem is found, 1 otherwise.')
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(DoctorOptionsSchema, raw);
      if (o.stage && o.dataDir) throw new UsageError('pass either --stage (AWS) or --data-dir (local), not both');
      const now = o.at ? Date.parse(o.at) : Date.now();
      if (Number.isNaN(now)) throw new UsageError(`--at is not an ISO 8601 time: ${o.at}`);
      const target: DoctorTarget = o.stage
        ? awsTarget(o.stage, o.region ?? process.env.AWS_REGION ?? 'us-east-1', () => now)
        : localTarget(resolve(o.dataDir ?? (process.env.SESFLOW_DATA_DIR || '.sesflow')));
      try {
        const findings = await runDoctor(target, { minutes: o.minutes, maxLagMs: o.maxLag * 1000, now });
        if (o.format === 'json') {
          process.stdout.write(`${JSON.stringify({ target: target.label, findings }, null, 2)}\n`);
        } else {
          process.stdout.write(formatFindings(target.label, findings));
        }
        if (findings.some((f) => f.severity === 'problem')) process.exitCode = 1;
      } finally {
        target.close();
      }
    });
}
