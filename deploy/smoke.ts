import { runDoctor } from './doctor/doctor';
import { awsTarget } from './doctor/targets';
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

/**
 * `npm run smoke -- --stage X`: the deployed stage answers as it should over HTTP, and `sesflow doctor`'s checks of
 * event destinations, dead letters and consumer lag pass. Exits 1 on any failure, which makes the Jenkinsfile roll
 * the stage back.
 */
async function main(argv: string[]): Promise<void> {
  const stage = stageFromArgs(argv);
  const info = await runServerless(['info', '--stage', stage, '--verbose'], 120_000);
  const url = httpApiUrl(info);
  if (!url) throw new DeployError(`serverless info --stage ${stage} shows no HttpApiUrl: is the stage deployed?`);
  const failures = await runSmokeChecks(url);
  for (const c of SMOKE_CHECKS) {
    const failed = failures.find((f) => f.startsWith(`${c.name}:`));
    process.stdout.write(`${failed ? 'FAIL' : 'ok  '} ${failed ?? c.name}\n`);
  }
  // The doctor's checks, except events per tenant: a quiet stage right after a deploy is not a broken one.
  const now = Date.now();
  const target = awsTarget(stage, process.env.AWS_REGION ?? 'us-east-1', () => now);
  try {
    const findings = await runDoctor(target, { minutes: 15, maxLagMs: 300_000, now });
    for (const f of findings.filter((x) => x.severity === 'problem' && x.check !== 'recent events')) {
      failures.push(`doctor, ${f.check}: ${f.message}`);
      process.stdout.write(`FAIL doctor, ${f.check}: ${f.message}\n`);
    }
  } finally {
    target.close();
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
