#!/usr/bin/env node
// Entry point of the `sesflow` command: loads the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';

// The AWS SDK announces that releases after January 2027 need Node 22; sesflow pins its SDK versions for Node 20.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === 'string' ? warning : warning?.message;
  if (typeof text === 'string' && text.includes('will require node >=22')) return;
  emitWarning(warning, ...rest);
};
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
