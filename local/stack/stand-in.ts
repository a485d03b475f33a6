import type { ChildProcess } from 'node:child_process';

/** A running local stand-in: where it listens, and how to stop it. `stop` is idempotent and never throws. */
export interface RunningStandIn {
  name: string;
  /** `http://127.0.0.1:<port>`: the SDK client's `endpoint`. */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Remembers a child process so it is killed when this process exits, even if a test or `sesflow start` forgets to
 * stop it (no orphaned Java processes).
 */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
