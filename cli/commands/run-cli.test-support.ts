import { vi } from 'vitest';
import { main } from '../main';

/** Runs `sesflow <args>` in process, for the CLI tests: the exit code and what it printed on stdout and stderr. */
export async function runCli(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    out += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    err += String(c);
    return true;
  });
  try {
    return { code: await main(['node', 'sesflow', ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
