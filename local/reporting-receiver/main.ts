import { describeError } from '../../lib/errors';
import { readReceiverConfig } from './config';
import { startReportingReceiver } from './server';

/**
 * The local External Reporting receiver on its own: `node --import tsx local/reporting-receiver/main.ts`, configured
 * by the environment (`SESFLOW_REPORTING_API_KEY` required; port, faults and refused tenants as in config.ts;
 * `SESFLOW_REPORTING_FILE` to append records to an NDJSON file). Prints `{"url": ...}` once listening; stops on
 * SIGTERM or SIGINT. The push benchmark runs it as a separate process, as the real platform is.
 */
async function run(): Promise<void> {
  const apiKey = process.env.SESFLOW_REPORTING_API_KEY;
  if (!apiKey) throw new Error('SESFLOW_REPORTING_API_KEY is not set');
  const config = readReceiverConfig();
  const receiver = await startReportingReceiver({
    port: config.port,
    apiKeys: [apiKey],
    faults: config.faults,
    rejectTenants: config.rejectTenants,
    ndjsonFile: process.env.SESFLOW_REPORTING_FILE || undefined,
  });
  process.stdout.write(`${JSON.stringify({ url: receiver.url })}\n`);
  const stop = () => {
    receiver.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Started by another process with an IPC channel (the benchmark): stop when it goes away.
  if (process.send) process.once('disconnect', stop);
}

run().catch((err) => {
  process.stderr.write(`reporting receiver: ${describeError(err)}\n`);
  process.exit(1);
});
