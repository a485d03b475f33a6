/**
 * Launchers of the local stand-ins, for `sesflow start` and for integration tests (`*.int.test.ts`):
 *
 * ```ts
 * const ddb = await startDynamoDbLocal();          // free port, in memory; needs java
 * const fq = await startFauxqsServer();            // SQS + SNS + S3
 * const kin = await startKinesalite();
 * const clients = createLocalClients({ dynamodb: ddb.endpoint, fauxqs: fq.endpoint, kinesis: kin.endpoint });
 * afterAll(async () => { clients.destroy(); await Promise.all([ddb.stop(), fq.stop(), kin.stop()]); });
 * ```
 * See docs/local-stack.md.
 */
export { startLocalFirehose } from '../firehose/server';
export { startSesSimulator } from '../ses-simulator/server';
export {
  createLocalClients,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalClients,
  type LocalEndpoints,
} from './clients';
export { type DynamoDbLocalOptions, JAVA_INSTALL_HINT, requireJava, startDynamoDbLocal } from './dynamodb-local';
export { startFauxqsServer } from './fauxqs';
export { startKinesalite } from './kinesis-local';
export { findFreePort, waitForPort } from './ports';
export type { RunningStandIn } from './stand-in';
