import { Command, CommanderError } from 'commander';
import { describeError } from '../lib/errors';
import { COMMANDS } from './commands';

/**
 * The `sesflow` command line. Each command lives in `cli/commands/<name>.ts` and registers itself on the program.
 * Errors reach the user as one line on stderr and a non-zero exit code, never a stack trace.
 */
export function buildProgram(): Command {
  const program = new Command('sesflow')
    .description('Analytics and deliverability pipeline for Amazon SES event streams')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`sesflow: ${describeError(err)}\n`);
    if (process.env.SESFLOW_DEBUG) console.error(err);
    return 1;
  }
}
