import { readFileSync, writeFileSync } from 'node:fs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type DeployBaseline, judgeDeploy, parseBaseline } from './deploy-judge';
import { deployStateClients, newVersionErrors, queueDepths } from './deploy-state';
import { runDoctor } from './doctor/doctor';
import { awsNames, awsTarget } from './doctor/targets';
import { DeployError, runServerless, stageFromArgs } from './serverless-cli';

/** The HTTP API's base URL from `serverless info --verbose` (stack output `HttpApiUrl`). */
export function httpApiUrl(infoOutput: string): string | null {
  const m = /^\s*HttpApiUrl: (https:\/\/\S+?)\/?$/m.exec(infoOutput);
  return m ? m[1]! : null;
}

export interface SmokeCheck {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  /** The status a healthy deployment answers. */
  expect: number;
}

/**
 * What a deployed stage must answer without credentials: the health check is open; the Reports API is behind the
 * Cognito authorizer (API Gateway answers 401); the Email API refuses a request without its x-api-key (401).
 */
export const SMOKE_CHECKS: readonly SmokeCheck[] = [
  { name: 'health check answers', method: 'GET', path: '/v1/health', expect: 200 },
  { name: 'Reports API refuses a request without a token', method: 'GET', path: '/v1/tenants', expect: 401 },
  { name: 'Email API refuses a request without a key', method: 'POST', path: '/v1/messages', expect: 401 },
];

/** Runs the checks against a base URL; returns one line per failed check. */
export async function runSmokeChecks(
  baseUrl: string,
  checks: readonly SmokeCheck[] = SMOKE_CHECKS,
  fetchImpl: typeof fetch = fetch,
): Promise<string[]> {
  const failures: string[] = [];
  for (const c of checks) {
    try {
      const res = await fetchImpl(`${baseUrl}${c.path}`, {
        method: c.method,
        headers: c.method === 'POST' ? { 'content-type': 'application/json' } : undefined,
        body: c.method === 'POST' ? '{}' : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      await res.arrayBuffer();
      if (res.status !== c.expect)
        failures.push(`${c.name}: ${c.method} ${c.path} answered ${res.status}, not ${c.expect}`);
    } catch (err) {
      failures.push(`${c.name}: ${c.method} ${c.path} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return failures;
}

/** `--name VALUE` from argv, or undefined. */
function optionValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/**
 * Doctor findings that fail a smoke test: a broken configuration (event destinations). Dead letters and consumer lag
 * are judged by what the deploy changed instead (judgeDeploy); events per tenant are not expected right after a deploy.
 */
export const SMOKE_DOCTOR_CHECKS: ReadonlySet<string> = new Set(['event destinations']);

/**
 * `npm run smoke -- --stage X --record-baseline FILE` (before the deploy): writes when the deploy began and the depth
 * of each dead-letter queue. `npm run smoke -- --stage X --baseline FILE` (after): the deployed stage answers as it
 * should over HTTP, its event destinations are configured, no dead-letter queue grew since the baseline and no
 * function's new version threw since then. Exits 1 on any failure, which makes the Jenkinsfile roll the stage back.
 * Without --baseline, dead letters and errors are judged over the last 15 minutes' errors only, and said so.
 */
async function main(argv: string[]): Promise<void> {
  const stage = stageFromArgs(argv);
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const names = awsNames(stage);
  const sqs = new SQSClient({ region });
  const recordTo = optionValue(argv, '--record-baseline');
  if (recordTo) {
    const baseline: DeployBaseline = {
      stage,
      startedAt: Date.now(),
      deadLetterDepths: await queueDepths(sqs, names.deadLetterQueues),
    };
    writeFileSync(recordTo, `${JSON.stringify(baseline, null, 2)}\n`);
    process.stdout.write(`smoke: baseline of ${stage} recorded in ${recordTo}\n`);
    return;
  }
  const baselineFile = optionValue(argv, '--baseline');
  const now = Date.now();
  const baseline: DeployBaseline = baselineFile
    ? parseBaseline(readFileSync(baselineFile, 'utf8'), baselineFile)
    : { stage, startedAt: now - 15 * 60_000, deadLetterDepths: {} };
  if (baseline.stage !== stage)
    throw new DeployError(`${baselineFile} is the baseline of ${baseline.stage}, not ${stage}`);
  if (!baselineFile)
    process.stdout.write('note: no --baseline: dead-letter growth is not judged, errors over 15 minutes\n');

  const info = await runServerless(['info', '--stage', stage, '--verbose'], 120_000);
  const url = httpApiUrl(info);
  if (!url) throw new DeployError(`serverless info --stage ${stage} shows no HttpApiUrl: is the stage deployed?`);
  const failures = await runSmokeChecks(url);
  for (const c of SMOKE_CHECKS) {
    const failed = failures.find((f) => f.startsWith(`${c.name}:`));
    process.stdout.write(`${failed ? 'FAIL' : 'ok  '} ${failed ?? c.name}\n`);
  }

  const depths = baselineFile ? await queueDepths(sqs, names.deadLetterQueues) : {};
  const clients = deployStateClients(region);
  const changed = judgeDeploy(
    baseline,
    depths,
    await newVersionErrors(clients, names.functions, baseline.startedAt, now),
  );
  for (const f of changed) process.stdout.write(`FAIL ${f}\n`);
  failures.push(...changed);

  const target = awsTarget(stage, region, () => now);
  try {
    const findings = await runDoctor(target, { minutes: 15, maxLagMs: 300_000, now });
    for (const f of findings.filter((x) => x.severity === 'problem')) {
      const fails = SMOKE_DOCTOR_CHECKS.has(f.check);
      if (fails) failures.push(`doctor, ${f.check}: ${f.message}`);
      process.stdout.write(`${fails ? 'FAIL' : 'note'} doctor, ${f.check}: ${f.message}\n`);
    }
  } finally {
    target.close();
    sqs.destroy();
    clients.lambda.destroy();
    clients.cloudwatch.destroy();
  }
  if (failures.length > 0) throw new DeployError(`${failures.length} smoke check(s) failed on ${stage}`);
  process.stdout.write(`smoke: stage ${stage} passed (${url})\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`smoke: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
