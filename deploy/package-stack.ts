import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runServerless } from './serverless-cli';
import type { CfnTemplate } from './template-checks';

export { REPO_ROOT } from './serverless-cli';

/** A lock held by one `serverless package` of this checkout at a time (a directory: made atomically). */
async function withPackageLock<T>(run: () => Promise<T>): Promise<T> {
  const lock = join(
    tmpdir(),
    `sesflow-package-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}.lock`,
  );
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock older than a package can take was left by a killed run.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (since !== undefined && Date.now() - since > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another serverless package holds ${lock}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await run();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface PackagedStack {
  dir: string;
  /** The stack template (cloudformation-template-update-stack.json). */
  template: CfnTemplate;
  /** The template that creates the deployment bucket first (cloudformation-template-create-stack.json). */
  createTemplate: CfnTemplate;
}

/**
 * Runs `serverless package --stage <stage> [args]` offline into a fresh directory (never the shared .serverless/) and reads
 * the generated templates. Rejects with serverless's own message when packaging fails.
 */
export async function packageStack(
  stage: string,
  options: { outDir?: string; args?: readonly string[] } = {},
): Promise<PackagedStack> {
  const dir = options.outDir ?? mkdtempSync(join(tmpdir(), 'sesflow-package-'));
  // One package at a time per checkout: serverless and serverless-esbuild work in the checkout's `.serverless/` and
  // `.esbuild/` (installing the external modules there), which packages made at once (test files run in parallel)
  // would share.
  await withPackageLock(() =>
    runServerless(['package', '--stage', stage, '--package', dir, ...(options.args ?? [])], 180_000),
  );
  const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as CfnTemplate;
  return {
    dir,
    template: read('cloudformation-template-update-stack.json'),
    createTemplate: read('cloudformation-template-create-stack.json'),
  };
}
