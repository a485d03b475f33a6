#!/usr/bin/env node
// Entry point of the `sesflow` command: loads the TypeScript CLI through tsx (no build step).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import { STREAMING_COMMANDS, STREAMING_NODE_FLAGS } from '../lib/node-flags.mjs';

// Streaming commands run in a child with a capped heap (peak memory bounded whatever the input size).
if (STREAMING_COMMANDS.has(process.argv[2] ?? '') && !process.env.SESFLOW_NODE_FLAGS_SET) {
  const child = spawnSync(
    process.execPath,
    [...STREAMING_NODE_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, SESFLOW_NODE_FLAGS_SET: '1' } },
  );
  if (child.error) {
    process.stderr.write(`sesflow: could not start: ${child.error.message}\n`);
    process.exit(1);
  }
  process.exit(child.status ?? 1);
}

// The AWS SDK announces that releases after January 2027 need Node 22; sesflow pins its SDK versions for Node 20.
// The SDK's own switch turns the notice off (an operator who sets the variable keeps their choice).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
