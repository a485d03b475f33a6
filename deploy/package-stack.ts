import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CfnTemplate } from './template-checks';

/** The repository root (where serverless.yml is). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface PackagedStack {
  dir: string;
  /** The stack template (cloudformation-template-update-stack.json). */
  template: CfnTemplate;
  /** The template that creates the deployment bucket first (cloudformation-template-create-stack.json). */
  createTemplate: CfnTemplate;
}

/**
 * Runs `serverless package --stage <stage>` offline into a fresh directory (never the shared .serverless/) and reads
 * the generated templates. Rejects with serverless's own message when packaging fails.
 */
export function packageStack(stage: string, outDir?: string): Promise<PackagedStack> {
  const dir = outDir ?? mkdtempSync(join(tmpdir(), 'sesflow-package-'));
  const bin = join(REPO_ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js');
  return new Promise((resolvePackaged, reject) => {
    execFile(
      process.execPath,
      [bin, 'package', '--stage', stage, '--package', dir],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', FORCE_COLOR: '0' },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`serverless package --stage ${stage} failed: ${`${stdout}\n${stderr}`.trim()}`));
          return;
        }
        const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as CfnTemplate;
        resolvePackaged({
          dir,
          template: read('cloudformation-template-update-stack.json'),
          createTemplate: read('cloudformation-template-create-stack.json'),
        });
      },
    );
  });
}
