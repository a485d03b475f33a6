import type { Command } from 'commander';
import { registerBench } from './bench';
import { registerCompact } from './compact';
import { registerDoctor } from './doctor';
import { registerForget } from './forget';
import { registerIngest } from './ingest';
import { registerPush } from './push';
import { registerQuery } from './query';
import { registerReputation } from './reputation';
import { registerSimulate } from './simulate';
import { registerStart } from './start';
import { registerTenants } from './tenants';
import { registerUsers } from './users';

/** A CLI command registers itself on the program. One file per command, listed here. */
export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [
  registerBench,
  registerCompact,
  registerDoctor,
  registerForget,
  registerIngest,
  registerPush,
  registerQuery,
  registerReputation,
  registerSimulate,
  registerStart,
  registerTenants,
  registerUsers,
];
