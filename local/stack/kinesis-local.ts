import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import kinesalite from 'kinesalite';
import type { RunningStandIn } from './stand-in';

/**
 * Starts kinesalite in-process (Kinesis on awsJson1_1). Its clients need `requestHandler: new NodeHttpHandler()`:
 * the Kinesis client defaults to HTTP/2, which kinesalite does not speak (see createLocalClients).
 */
export async function startKinesalite(opts: { port?: number; dataDir?: string } = {}): Promise<RunningStandIn> {
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, path: opts.dataDir });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  return {
    name: 'kinesis',
    endpoint: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
