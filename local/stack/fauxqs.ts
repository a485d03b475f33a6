import { startFauxqs } from 'fauxqs';
import type { RunningStandIn } from './stand-in';

/**
 * Starts fauxqs@1.9.2 in-process: SQS, SNS and S3 on one port (S3 clients need `forcePathStyle: true`). It keeps
 * everything in memory: what must survive a restart goes to files (the lake writer's fs store).
 */
export async function startFauxqsServer(opts: { port?: number } = {}): Promise<RunningStandIn> {
  const server = await startFauxqs({ port: opts.port ?? 0, host: '127.0.0.1', logger: false });
  let stopped = false;
  return {
    name: 'fauxqs',
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
