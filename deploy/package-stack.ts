import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServerless } from './serverless-cli';
import type { CfnTemplate } from './template-checks';

export { REPO_ROOT } from './serverless-cli';

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
  await runServerless(['package', '--stage', stage, '--package', dir, ...(options.args ?? [])], 180_000);
  const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as CfnTemplate;
  return {
    dir,
    template: read('cloudformation-template-update-stack.json'),
    createTemplate: read('cloudformation-template-create-stack.json'),
  };
}
