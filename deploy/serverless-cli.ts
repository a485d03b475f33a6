import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SesflowError } from '../lib/errors';

/** The repository root (where serverless.yml is). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The stages serverless.yml defines (its `params`). */
export const STAGES = ['dev', 'staging', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export class DeployError extends SesflowError {
  override name = 'DeployError';
}

/** `--stage X` from argv, checked against the stages serverless.yml knows. */
export function stageFromArgs(argv: readonly string[]): Stage {
  const i = argv.indexOf('--stage');
  const value = i >= 0 ? argv[i + 1] : undefined;
  if (!value) throw new DeployError(`--stage is required (${STAGES.join(', ')})`);
  if (!(STAGES as readonly string[]).includes(value)) {
    throw new DeployError(`unknown stage ${value}: serverless.yml defines ${STAGES.join(', ')}`);
  }
  return value as Stage;
}

/**
 * Runs the serverless CLI of node_modules with telemetry off; resolves with its stdout, rejects with its output.
 * serverless-esbuild leaves each function's zip staging folder in the OS temp dir after packaging (one folder per
 * function and run), so the run gets a temp dir of its own (TMPDIR), removed when it ends.
 */
export function runServerless(
  args: readonly string[],
  timeoutMs = 20 * 60_000,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<string> {
  const bin = join(REPO_ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js');
  const runTmp = mkdtempSync(join(tmpdir(), 'sesflow-sls-'));
  const done = () => rmSync(runTmp, { recursive: true, force: true });
  return new Promise<string>((resolveRun, reject) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
          FORCE_COLOR: '0',
          TMPDIR: runTmp,
          ...extraEnv,
        },
        maxBuffer: 16 * 1024 * 1024,
        timeout: timeoutMs,
      },
      (err, stdout, stderr) => {
        if (err) reject(new DeployError(`serverless ${args.join(' ')} failed: ${`${stdout}\n${stderr}`.trim()}`));
        else resolveRun(`${stdout}\n${stderr}`);
      },
    );
  }).finally(done);
}
