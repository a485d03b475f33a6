import { AthenaClient } from '@aws-sdk/client-athena';
import { eventsViewDdl } from '../queries/athena/ddl';
import { AthenaRunner } from '../queries/athena/runner';
import { awsNames } from './doctor/targets';
import { stageFromArgs } from './serverless-cli';

/**
 * The statements a deployed stage needs beyond CloudFormation: the deduplicating `events` view every named query
 * reads (queries/athena/ddl.ts). Glue tables `events_raw` and `ingest_errors` are stack resources; a view has no
 * CloudFormation resource, so it is (re)made here with CREATE OR REPLACE VIEW: safe to run after every deploy.
 */
export function athenaSetupStatements(stage: string, lakeBucket: string): string[] {
  return [eventsViewDdl({ database: awsNames(stage).glueDatabase, bucket: lakeBucket, firstDay: '2024-01-01' })];
}

/** `npm run athena:setup -- --stage X`: runs the statements in the stage's workgroup (after `npm run deploy`). */
async function main(argv: string[]): Promise<void> {
  const stage = stageFromArgs(argv);
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const client = new AthenaClient({ region });
  const names = awsNames(stage);
  const runner = new AthenaRunner({ client, workGroup: names.workgroup, database: names.glueDatabase });
  // The bucket only appears in table locations, which the view does not use; the view reads events_raw.
  for (const sql of athenaSetupStatements(stage, 'sesflow-lake')) {
    await runner.run(sql);
    process.stdout.write(`athena:setup: ${sql.split('\n')[0]}\n`);
  }
  client.destroy();
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`athena:setup: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
