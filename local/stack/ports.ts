import { createServer, Socket } from 'node:net';
import { sleep } from '../../lib/retry';
import { StandInStartError } from '../errors';

/** A port that was free a moment ago (for servers that cannot listen on port 0, like DynamoDB Local). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connection to host:port succeeds; rejects after `timeoutMs` or when `aborted()` says so. */
export async function waitForPort(
  port: number,
  opts: { host?: string; timeoutMs?: number; what?: string; aborted?: () => string | null } = {},
): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const why = opts.aborted?.();
    if (why) throw new StandInStartError(`${opts.what ?? 'server'} did not start: ${why}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      const done = (v: boolean) => {
        s.destroy();
        resolve(v);
      };
      s.setTimeout(500, () => done(false));
      s.once('error', () => done(false));
      s.connect(port, host, () => done(true));
    });
    if (ok) return;
    if (Date.now() > deadline) {
      throw new StandInStartError(
        `${opts.what ?? 'server'} did not open ${host}:${port} within ${opts.timeoutMs ?? 30_000} ms`,
      );
    }
    await sleep(100);
  }
}

/** `preferred` if it is free right now (0 means any), otherwise a free port: a busy default never stops a start. */
export async function preferredOrFreePort(preferred: number, host = '127.0.0.1'): Promise<number> {
  if (preferred === 0) return findFreePort(host);
  const free = await new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(preferred, host, () => srv.close(() => resolve(true)));
  });
  return free ? preferred : findFreePort(host);
}
