import { DeployError, runServerless, stageFromArgs } from './serverless-cli';

/**
 * The deployment before the latest in `serverless deploy list` output (`Timestamp: <ms>` per deployment), or null
 * when there is none to go back to.
 */
export function previousDeployment(listOutput: string): string | null {
  const stamps = [...listOutput.matchAll(/^Timestamp: (\d+)$/gm)].map((m) => m[1]!);
  const sorted = [...new Set(stamps)].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  return sorted.length >= 2 ? sorted[sorted.length - 2]! : null;
}

/**
 * `npm run rollback -- --stage X`: puts the stage back on its previous deployment (the Jenkinsfile runs it when a
 * smoke test fails). Stateful resources keep their data; CloudFormation reverts functions, roles and settings.
 */
async function main(argv: string[]): Promise<void> {
  const stage = stageFromArgs(argv);
  const list = await runServerless(['deploy', 'list', '--stage', stage], 120_000);
  const timestamp = previousDeployment(list);
  if (!timestamp) throw new DeployError(`stage ${stage} has no earlier deployment to roll back to`);
  process.stdout.write(`rollback: stage ${stage} to deployment ${timestamp}\n`);
  await runServerless(['rollback', '--stage', stage, '--timestamp', timestamp]);
  process.stdout.write(`rollback: stage ${stage} is on deployment ${timestamp}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`rollback: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
