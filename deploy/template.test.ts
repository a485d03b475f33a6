import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { LAKE_COLUMN_TYPES, LAKE_COLUMNS } from '../ingest/lake-schema';
import { partitionOf } from '../ingest/transform';
import { createTableInput } from '../lib/table-design';
import { ATHENA_TABLES, FIREHOSE_ERROR_OUTPUT_TYPES } from '../queries/athena/ddl';
import { DEFAULT_EVENTS_INDEX } from '../queries/opensearch/index-template';
import { awsNames } from './doctor/targets';
import { packageStack, REPO_ROOT } from './package-stack';
import { usePackagedStack } from './packaged-stack.test-support';
import { runServerless } from './serverless-cli';
import {
  checkBlueGreen,
  checkBuckets,
  checkDynamicPartitioning,
  checkKmsWriters,
  checkLeastPrivilege,
  checkQueuesHaveDlq,
  checkRedundantDependsOn,
  checkRolePerFunction,
  functionOf,
  kmsWriters,
  nodeRuntimes,
  referencedLogicalId,
  resourcesOfType,
} from './template-checks';
import { describeWebHosting } from './web-hosting-checks';
import { zipEntries } from './zip-entries';

/**
 * Handler modules that exist but do not export their Lambda entry point yet, with why. A test below fails as soon as
 * one of them does, so this list cannot go stale.
 */
const HANDLERS_NOT_WIRED: Record<string, string> = {};

const dev = usePackagedStack('dev');
const { res, props } = dev;

describe('serverless package --stage dev', () => {
  it('defines every resource of the pipeline', () => {
    const expected: Record<string, string> = {
      IngestTransformLambdaFunction: 'AWS::Lambda::Function',
      ReputationLambdaFunction: 'AWS::Lambda::Function',
      ReportsApiLambdaFunction: 'AWS::Lambda::Function',
      EmailApiLambdaFunction: 'AWS::Lambda::Function',
      BulkWorkerLambdaFunction: 'AWS::Lambda::Function',
      PushProducerLambdaFunction: 'AWS::Lambda::Function',
      PusherLambdaFunction: 'AWS::Lambda::Function',
      CompactLakeLambdaFunction: 'AWS::Lambda::Function',
      PushProducerFailureQueue: 'AWS::SQS::Queue',
      EventsDeliveryStream: 'AWS::KinesisFirehose::DeliveryStream',
      SearchDeliveryStream: 'AWS::KinesisFirehose::DeliveryStream',
      SesEventsStream: 'AWS::Kinesis::Stream',
      SesEventsRule: 'AWS::Events::Rule',
      ReportingQueue: 'AWS::SQS::Queue',
      ReportingDlq: 'AWS::SQS::Queue',
      SendJobsQueue: 'AWS::SQS::Queue',
      SendJobsDlq: 'AWS::SQS::Queue',
      ReputationFailureQueue: 'AWS::SQS::Queue',
      Table: 'AWS::DynamoDB::Table',
      LakeBucket: 'AWS::S3::Bucket',
      SearchBackupBucket: 'AWS::S3::Bucket',
      AthenaResultsBucket: 'AWS::S3::Bucket',
      DataKey: 'AWS::KMS::Key',
      SearchCollection: 'AWS::OpenSearchServerless::Collection',
      SearchEncryptionPolicy: 'AWS::OpenSearchServerless::SecurityPolicy',
      SearchNetworkPolicy: 'AWS::OpenSearchServerless::SecurityPolicy',
      SearchAccessPolicy: 'AWS::OpenSearchServerless::AccessPolicy',
      AthenaWorkGroup: 'AWS::Athena::WorkGroup',
      GlueDatabase: 'AWS::Glue::Database',
      LakeEventsTable: 'AWS::Glue::Table',
      LakeErrorsTable: 'AWS::Glue::Table',
      AlertTopic: 'AWS::SNS::Topic',
      HttpApi: 'AWS::ApiGatewayV2::Api',
      HttpApiAuthorizerCognito: 'AWS::ApiGatewayV2::Authorizer',
      UserPool: 'AWS::Cognito::UserPool',
      UserPoolClient: 'AWS::Cognito::UserPoolClient',
      SesPublishRole: 'AWS::IAM::Role',
    };
    const missing = Object.entries(expected)
      .filter(([id, type]) => dev.stack.template.Resources[id]?.Type !== type)
      .map(([id, type]) => `${id} (${type})`);
    expect(missing).toEqual([]);
  });

  it('references only handler files that exist, and each bundle exports the handler it names', async () => {
    const problems: string[] = [];
    const notWired: string[] = [];
    for (const [id, fn] of resourcesOfType(dev.stack.template, 'AWS::Lambda::Function')) {
      const handler = String(fn.Properties?.Handler);
      const dot = handler.lastIndexOf('.');
      const file = `${handler.slice(0, dot)}.ts`;
      const exportName = handler.slice(dot + 1);
      if (!existsSync(join(REPO_ROOT, file))) {
        problems.push(`${id}: ${file} does not exist`);
        continue;
      }
      const out = await build({
        // The entry module alone: its exports are the handler module's own (serverless-esbuild did the bundling).
        entryPoints: [join(REPO_ROOT, file)],
        bundle: false,
        write: false,
        metafile: true,
        format: 'esm',
        platform: 'node',
        target: 'node22',
        outdir: join(REPO_ROOT, '.esbuild', 'export-check'),
        logLevel: 'silent',
      });
      const exports = Object.values(out.metafile.outputs).flatMap((o) => o.exports);
      if (exports.includes(exportName)) continue;
      if (HANDLERS_NOT_WIRED[file]) notWired.push(file);
      else problems.push(`${id}: ${file} does not export ${exportName}`);
    }
    expect(problems).toEqual([]);
    // A module listed as not wired that now exports its handler must leave the list.
    expect(notWired.sort()).toEqual(Object.keys(HANDLERS_NOT_WIRED).sort());
  }, 60_000);

  it('runs every function on a Node.js runtime AWS still creates functions on, bundled for that runtime', () => {
    const runtimes = nodeRuntimes(dev.stack.template);
    expect(runtimes.length).toBeGreaterThanOrEqual(7);
    // nodejs20.x: deprecated 2026-04-30, no new functions since 2026-06-01 (cfn-lint E2533).
    for (const r of runtimes) expect([r.id, r.runtime, r.major >= 22]).toEqual([r.id, r.runtime, true]);
    const target = /^\s+target: node(\d+)$/m.exec(readFileSync(join(REPO_ROOT, 'serverless.yml'), 'utf8'));
    expect([...new Set(runtimes.map((r) => r.major))]).toEqual([Number(target?.[1])]);
  });

  it('has no DependsOn that a Ref or GetAtt of the same resource already implies (cfn-lint W3005)', () => {
    expect(checkRedundantDependsOn(dev.stack.template)).toEqual([]);
  });

  it('subscribes the alert targets on conditions over template parameters, not over two constants', () => {
    const conditions = dev.stack.template.Conditions as Record<string, any>;
    expect(conditions.HasAlertEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlertEmail' }, ''] }] });
    expect(conditions.HasAlertWebhook).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlertWebhookUrl' }, ''] }] });
    // dev runs without a target (packaging says so): both parameters default to none.
    expect(dev.stack.template.Parameters?.AlertEmail?.Default).toBe('');
    const subs = resourcesOfType(dev.stack.template, 'AWS::SNS::Subscription').map(([, r]) => [
      r.Condition,
      r.Properties?.Protocol,
      referencedLogicalId(r.Properties?.TopicArn),
      referencedLogicalId(r.Properties?.Endpoint),
    ]);
    expect(subs.sort()).toEqual([
      ['HasAlertEmail', 'email', 'AlertTopic', 'AlertEmail'],
      ['HasAlertWebhook', 'https', 'AlertTopic', 'AlertWebhookUrl'],
    ]);
  });

  it('lets every writer of every encrypted queue, topic, bucket and stream use its key', () => {
    const writers = kmsWriters(dev.stack.template);
    // The walk finds the writers the issue names: EventBridge (its dead-letter queue), CloudWatch (the alarm topic),
    // Lambda destinations, redrive and Firehose.
    const via = [...writers.values()].flat().map((w) => w.via);
    for (const kind of ['dead-letter queue', 'action', 'destination', 'redrive', 'delivery'])
      expect(
        via.some((v) => v.endsWith(kind)),
        kind,
      ).toBe(true);
    expect(checkKmsWriters(dev.stack.template)).toEqual([]);
  });

  it('resolves no secret into any environment variable; the functions read theirs at run time, cached', () => {
    for (const [id, fn] of resourcesOfType(dev.stack.template, 'AWS::Lambda::Function')) {
      const vars = (fn.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {};
      const resolved = Object.entries(vars)
        .filter(([, v]) => /\{\{resolve:(secretsmanager|ssm-secure):/.test(JSON.stringify(v)))
        .map(([name]) => name);
      expect([id, resolved]).toEqual([id, []]);
    }
    // The unsubscribe token key: its secret named to the functions that seal and open links, readable by their roles.
    for (const [fn, role] of [
      ['EmailApiLambdaFunction', 'EmailApiRole'],
      ['BulkWorkerLambdaFunction', 'BulkWorkerRole'],
      ['UnsubscribeLambdaFunction', 'UnsubscribeRole'],
    ] as const) {
      const env = props(fn).Environment.Variables;
      expect([fn, referencedLogicalId(env.SESFLOW_UNSUBSCRIBE_SECRET_ID)]).toEqual([fn, 'UnsubscribeTokenSecret']);
      expect([fn, env.SESFLOW_UNSUBSCRIBE_SECRET]).toEqual([fn, undefined]);
      const statements = props(role).Policies.flatMap(
        (p: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } }) => p.PolicyDocument.Statement,
      );
      const read = statements.find((s: { Action: unknown }) =>
        JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'),
      );
      expect([role, referencedLogicalId(read?.Resource)]).toEqual([role, 'UnsubscribeTokenSecret']);
    }
    // The erasure function: its key and the External Reporting secret, both read at run time.
    const erase = props('EraseRecipientLambdaFunction').Environment.Variables;
    expect(referencedLogicalId(erase.SESFLOW_ERASURE_KEY_SECRET_ID)).toBe('ErasureKey');
    expect(erase.SESFLOW_REPORTING_SECRET_ID).toBe('sesflow/dev/external-reporting');
    const eraseGrants = JSON.stringify(props('EraseRecipientRole').Policies);
    expect(eraseGrants).toContain('secretsmanager:GetSecretValue');
    expect(eraseGrants).toContain('secret:sesflow/dev/external-reporting-??????');
    expect(eraseGrants).toContain('"Ref":"ErasureKey"');
    const vars = props('PusherLambdaFunction').Environment.Variables;
    expect(vars.SESFLOW_REPORTING_SECRET_ID).toBe('sesflow/dev/external-reporting');
    expect(Number(vars.SESFLOW_REPORTING_SECRET_MAX_AGE_SECONDS)).toBeGreaterThan(0);
    const grants = JSON.stringify(props('PusherRole').Policies);
    expect(grants).toContain('secretsmanager:GetSecretValue');
    expect(grants).toContain('secret:sesflow/dev/external-reporting-??????');
  });

  it('publishes every function behind the alias live, shifted by CodeDeploy and rolled back on its alarms', () => {
    expect(checkBlueGreen(dev.stack.template, 'live')).toEqual([]);
    // CodeDeploy runs with AWS's limited Lambda deployment policy, not the plugin's role with AWSLambda_FullAccess.
    const groups = resourcesOfType(dev.stack.template, 'AWS::CodeDeploy::DeploymentGroup');
    expect(groups.length).toBe(resourcesOfType(dev.stack.template, 'AWS::Lambda::Function').length);
    for (const [, g] of groups) expect(referencedLogicalId(g.Properties?.ServiceRoleArn)).toBe('CodeDeployRole');
    expect(JSON.stringify(props('CodeDeployRole').ManagedPolicyArns)).toContain('AWSCodeDeployRoleForLambdaLimited');
    expect(dev.stack.template.Resources.CodeDeployServiceRole).toBeUndefined();
  });

  it('compacts the S3 lake hourly in one function that fits Lambda, may touch only events/ and rollups/ and runs once at a time', () => {
    const fn = props('CompactLakeLambdaFunction');
    expect(fn.Handler).toBe('ingest/compact.handler.handler');
    expect(fn.Architectures).toEqual(['x86_64']);
    expect(fn.Timeout).toBe(900);
    expect(fn.ReservedConcurrentExecutions).toBe(1);
    expect(fn.EphemeralStorage.Size).toBeGreaterThanOrEqual(2048);
    expect(referencedLogicalId(fn.Environment.Variables.SESFLOW_LAKE_BUCKET)).toBe('LakeBucket');
    const [rule] = resourcesOfType(dev.stack.template, 'AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Properties?.Targets).includes('CompactLake'),
    );
    expect(rule?.[1].Properties?.ScheduleExpression).toBe('rate(1 hour)');
    expect(functionOf(dev.stack.template, (rule![1].Properties!.Targets as any[])[0].Arn)).toBe(
      'CompactLakeLambdaFunction',
    );
    const grants = (props('CompactLakeRole').Policies[0].PolicyDocument.Statement as any[]).filter((x) =>
      [x.Action].flat().includes('s3:DeleteObject'),
    );
    // The hours it compacts, and the rollups it writes after (deploy/rollups-template.test.ts).
    expect(grants.map((g) => JSON.stringify(g.Resource))).toEqual([
      JSON.stringify([
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable, not a JS template
        { 'Fn::Sub': '${LakeBucket.Arn}/events/*' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable, not a JS template
        { 'Fn::Sub': '${LakeBucket.Arn}/rollups/*' },
      ]),
    ]);
    // The package holds the bundle and DuckDB's linux-x64 binding, under Lambda's 250 MB unzipped.
    const entries = zipEntries(join(dev.stack.dir, 'compactLake.zip'));
    const names = entries.map((e) => e.name);
    expect(names).toContain('ingest/compact.handler.mjs');
    expect(names).toContain('node_modules/@duckdb/node-bindings-linux-x64/duckdb.node');
    expect(entries.reduce((a, e) => a + e.size, 0)).toBeLessThan(250 * 1024 * 1024);
  });

  it('sets no environment variable or permission the code does not use, and lets dev be removed', () => {
    const unused = /^SESFLOW_(LAKE_TABLE|OPENSEARCH_)/;
    // The Reports API's (the erasure function reads the lake table and OpenSearch itself).
    for (const [id, fn] of resourcesOfType(dev.stack.template, 'AWS::Lambda::Function').filter(
      ([i]) => i === 'ReportsApiLambdaFunction',
    )) {
      const names = Object.keys((fn.Properties?.Environment as { Variables?: object })?.Variables ?? {});
      expect([id, names.filter((n) => unused.test(n))]).toEqual([id, []]);
    }
    expect(JSON.stringify(props('ReportsApiRole'))).not.toContain('aoss:');
    expect(props('Table').DeletionProtectionEnabled).toBe(false);
  });

  it('gives every function a role of its own', () => {
    expect(resourcesOfType(dev.stack.template, 'AWS::Lambda::Function').length).toBeGreaterThanOrEqual(3);
    expect(checkRolePerFunction(dev.stack.template)).toEqual([]);
  });

  it('grants no wildcard action, and Resource "*" only to actions without resource-level permissions', () => {
    expect(checkLeastPrivilege(dev.stack.template)).toEqual([]);
  });

  it('gives every queue a dead-letter queue with a redrive policy', () => {
    expect(resourcesOfType(dev.stack.template, 'AWS::SQS::Queue').length).toBeGreaterThanOrEqual(4);
    expect(checkQueuesHaveDlq(dev.stack.template)).toEqual([]);
    for (const [id, q] of resourcesOfType(dev.stack.template, 'AWS::SQS::Queue')) {
      expect(referencedLogicalId(q.Properties?.KmsMasterKeyId), `${id} encrypted with the data key`).toBe('DataKey');
    }
  });

  it('encrypts every bucket and blocks public access, in both templates', () => {
    // The UI bucket holds the app's own files, no data: SSE-S3, so CloudFront's origin access control needs no key grant.
    expect(checkBuckets(dev.stack.template, ['ServerlessDeploymentBucket', 'WebBucket'])).toEqual([]);
    expect(checkBuckets(dev.stack.createTemplate)).toEqual([]);
    for (const id of ['LakeBucket', 'SearchBackupBucket', 'AthenaResultsBucket']) {
      expect(props(id).LifecycleConfiguration?.Rules?.length, `${id} lifecycle rules`).toBeGreaterThan(0);
    }
  });

  it('partitions the lake by the transform Lambda keys, with an error prefix, and converts to Parquet via Glue', () => {
    expect(checkDynamicPartitioning(dev.stack.template)).toEqual([]);
    const s3 = props('EventsDeliveryStream').ExtendedS3DestinationConfiguration;
    expect(s3.DynamicPartitioningConfiguration.Enabled).toBe(true);
    // The keys the Firehose prefix reads are exactly the keys the transform returns.
    const keys = Object.keys(partitionOf(Date.UTC(2026, 10, 25, 7)));
    const prefixKeys = [...String(s3.Prefix).matchAll(/!\{partitionKeyFromLambda:(\w+)\}/g)].map((m) => m[1]);
    expect(prefixKeys.sort()).toEqual(keys.sort());
    expect(s3.Prefix.startsWith('events/')).toBe(true);
    expect(s3.ErrorOutputPrefix.startsWith('errors/')).toBe(true);
    const processor = s3.ProcessingConfiguration.Processors[0];
    const lambda = processor.Parameters.find((p: any) => p.ParameterName === 'LambdaArn').ParameterValue;
    // Through the alias (blue/green), which is the transform's.
    expect(res(referencedLogicalId(lambda)!).Type).toBe('AWS::Lambda::Alias');
    expect(functionOf(dev.stack.template, lambda)).toBe('IngestTransformLambdaFunction');
    const conversion = s3.DataFormatConversionConfiguration;
    expect(conversion.Enabled).toBe(true);
    expect(conversion.OutputFormatConfiguration.Serializer.ParquetSerDe).toBeDefined();
    expect(referencedLogicalId(conversion.SchemaConfiguration.TableName)).toBe('LakeEventsTable');
    // Parquet conversion needs a buffer of at least 64 MB and no Firehose-level compression.
    expect(s3.BufferingHints.SizeInMBs).toBeGreaterThanOrEqual(64);
    expect(s3.CompressionFormat).toBe('UNCOMPRESSED');
  });

  it('sends OpenSearch Serverless documents that fail to S3', () => {
    const aoss = props('SearchDeliveryStream').AmazonOpenSearchServerlessDestinationConfiguration;
    expect(referencedLogicalId(aoss.CollectionEndpoint)).toBe('SearchCollection');
    expect(aoss.S3BackupMode).toBe('FailedDocumentsOnly');
    // Raw records never go into the adapter's index (its mapping is `dynamic: false`, its ids are event ids).
    expect(aoss.IndexName).not.toBe(DEFAULT_EVENTS_INDEX);
    expect(aoss.IndexName.startsWith(DEFAULT_EVENTS_INDEX)).toBe(false);
    expect(referencedLogicalId(aoss.S3Configuration.BucketARN)).toBe('SearchBackupBucket');
  });

  it('declares the Glue lake table with the lake columns and partition projection', () => {
    const table = props('LakeEventsTable').TableInput;
    const columns = table.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type]);
    expect(columns).toEqual(LAKE_COLUMNS.map((c) => [c, LAKE_COLUMN_TYPES[c]]));
    expect(table.PartitionKeys.map((k: { Name: string }) => k.Name)).toEqual(['dt', 'hour']);
    expect(table.Parameters['projection.enabled']).toBe('true');
    expect(JSON.stringify(table.Parameters['storage.location.template'])).toContain('/events/dt=$');
  });

  it('declares the Glue tables queries/athena/ddl.ts defines, so the named queries find them', () => {
    const raw = props('LakeEventsTable').TableInput;
    const errors = props('LakeErrorsTable').TableInput;
    expect([raw.Name, errors.Name]).toEqual([ATHENA_TABLES.raw, ATHENA_TABLES.errors]);
    // In AWS only Firehose writes errors/ (the transform's failures arrive as processing-failed).
    expect(errors.Parameters['projection.error_type.values']).toBe(FIREHOSE_ERROR_OUTPUT_TYPES.join(','));
    expect(errors.PartitionKeys.map((k: { Name: string }) => k.Name)).toEqual(['error_type', 'dt']);
    expect(props('GlueDatabase').DatabaseInput.Name).toBe(awsNames('dev').glueDatabase);
    expect(props('AthenaWorkGroup').Name).toBe(awsNames('dev').workgroup);
  });

  it('declares the DynamoDB table of lib/table-design.ts, with TTL and point-in-time recovery', () => {
    const design = createTableInput('x');
    const t = props('Table');
    expect(t.KeySchema).toEqual(design.KeySchema);
    expect(t.AttributeDefinitions).toEqual(design.AttributeDefinitions);
    expect(t.GlobalSecondaryIndexes).toEqual(design.GlobalSecondaryIndexes);
    expect(t.BillingMode).toBe(design.BillingMode);
    expect(t.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
    expect(t.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled).toBe(true);
    expect(t.SSESpecification.SSEType).toBe('KMS');
  });

  it('feeds the reputation Lambda from Kinesis with partial batch failures, and EventBridge feeds Kinesis', () => {
    const [mapping] = resourcesOfType(dev.stack.template, 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => functionOf(dev.stack.template, m.Properties?.FunctionName) === 'ReputationLambdaFunction',
    );
    expect(mapping).toBeDefined();
    const m = mapping![1].Properties as Record<string, any>;
    expect(referencedLogicalId(m.EventSourceArn)).toBe('SesEventsStream');
    expect(m.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(referencedLogicalId(m.DestinationConfig.OnFailure.Destination)).toBe('ReputationFailureQueue');
    const rule = props('SesEventsRule');
    expect(rule.EventPattern.source).toEqual(['aws.ses']);
    expect(referencedLogicalId(rule.Targets[0].Arn)).toBe('SesEventsStream');
    expect(rule.Targets[0].InputPath).toBe('$.detail');
  });

  it('has every event source mapping (Kinesis and SQS) report partial batch failures', () => {
    const mappings = resourcesOfType(dev.stack.template, 'AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThanOrEqual(4);
    for (const [id, m] of mappings) {
      expect([id, m.Properties?.FunctionResponseTypes]).toEqual([id, ['ReportBatchItemFailures']]);
    }
  });

  it('limits the bytes an Athena query may scan, and enforces the workgroup settings', () => {
    const cfg = props('AthenaWorkGroup').WorkGroupConfiguration;
    expect(cfg.BytesScannedCutoffPerQuery).toBeGreaterThanOrEqual(10 * 1024 * 1024);
    expect(cfg.EnforceWorkGroupConfiguration).toBe(true);
    expect(cfg.ResultConfiguration.EncryptionConfiguration.EncryptionOption).toBe('SSE_KMS');
  });

  it('protects the collection with encryption, network and data access policies naming it', () => {
    const name = props('SearchCollection').Name as string;
    expect(props('SearchEncryptionPolicy').Type).toBe('encryption');
    expect(props('SearchNetworkPolicy').Type).toBe('network');
    expect(props('SearchAccessPolicy').Type).toBe('data');
    for (const id of ['SearchEncryptionPolicy', 'SearchNetworkPolicy']) {
      expect(() => JSON.parse(props(id).Policy as string), `${id} is JSON`).not.toThrow();
      expect(props(id).Policy, id).toContain(`"collection/${name}"`);
    }
    // The data policy is a Fn::Sub: its collection variable is the collection's name, its principals the two roles.
    const [text, vars] = props('SearchAccessPolicy').Policy['Fn::Sub'];
    expect(vars.Collection).toBe(name);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub variable, not a JS template
    expect(text).toContain('index/${Collection}/${Index}');
    expect([referencedLogicalId(vars.FirehoseRole), referencedLogicalId(vars.ReaderRole)]).toEqual([
      'SearchFirehoseRole',
      'SearchReaderRole',
    ]);
    // A person can open OpenSearch Dashboards: the network policy opens the dashboards endpoint (IAM still decides),
    // and the reader role (assumed with MFA) may use the collection's API and dashboards.
    const network = JSON.parse(props('SearchNetworkPolicy').Policy as string) as {
      Rules: { ResourceType: string }[];
    }[];
    expect(network[0]!.Rules.map((r) => r.ResourceType).sort()).toEqual(['collection', 'dashboard']);
    const reader = JSON.stringify(props('SearchReaderRole'));
    expect(reader).toContain('aoss:DashboardsAccessAll');
    expect(reader).toContain('aws:MultiFactorAuthPresent');
    expect(res('SearchCollection').DependsOn).toContain('SearchEncryptionPolicy');
  });

  it('alarms on DLQ depth, Firehose delivery, Lambda errors, iterator age and the account SES rates', () => {
    const all = resourcesOfType(dev.stack.template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as any);
    for (const a of all) expect(referencedLogicalId(a.AlarmActions?.[0]), a.AlarmName).toBe('AlertTopic');
    // The function-wide alarms (the deployment alarms on an alias are checked with blue/green below).
    const alarms = all.filter((a) => !a.Dimensions?.some((d: any) => d.Name === 'Resource'));
    const on = (ns: string, metric: string) => alarms.filter((a) => a.Namespace === ns && a.MetricName === metric);
    const dimensionIds = (list: any[]) => list.map((a) => referencedLogicalId(a.Dimensions?.[0]?.Value));
    // Every dead-letter queue (a queue without a redrive policy of its own) has a depth alarm.
    const dlqs = resourcesOfType(dev.stack.template, 'AWS::SQS::Queue')
      .filter(([, q]) => !q.Properties?.RedrivePolicy)
      .map(([id]) => id);
    expect(dimensionIds(on('AWS/SQS', 'ApproximateNumberOfMessagesVisible')).sort()).toEqual(dlqs.sort());
    // Every function has an error alarm.
    const functions = resourcesOfType(dev.stack.template, 'AWS::Lambda::Function').map(([id]) => id);
    expect(dimensionIds(on('AWS/Lambda', 'Errors')).sort()).toEqual(functions.sort());
    // Every function fed by the Kinesis stream has an iterator-age (lag) alarm.
    const streamConsumers = resourcesOfType(dev.stack.template, 'AWS::Lambda::EventSourceMapping')
      .filter(([, m]) => referencedLogicalId(m.Properties?.EventSourceArn) === 'SesEventsStream')
      .map(([, m]) => functionOf(dev.stack.template, m.Properties?.FunctionName));
    expect(streamConsumers.length).toBeGreaterThanOrEqual(1);
    expect(dimensionIds(on('AWS/Lambda', 'IteratorAge')).sort()).toEqual(streamConsumers.sort());
    expect(dimensionIds(on('AWS/Firehose', 'DeliveryToS3.Success'))).toEqual(['EventsDeliveryStream']);
    expect(on('AWS/Firehose', 'DeliveryToAmazonOpenSearchServerless.DataFreshness')).toHaveLength(1);
    // SES publishes the account rates as fractions; the alarms fire below AWS's review thresholds (5 %, 0.1 %).
    const [bounce] = on('AWS/SES', 'Reputation.BounceRate');
    const [complaint] = on('AWS/SES', 'Reputation.ComplaintRate');
    expect(bounce?.Threshold).toBeGreaterThan(0);
    expect(bounce?.Threshold).toBeLessThan(0.05);
    expect(complaint?.Threshold).toBeGreaterThan(0);
    expect(complaint?.Threshold).toBeLessThan(0.001);
  });

  it('names the resources sesflow doctor --stage looks for', () => {
    const names = awsNames('dev');
    expect(props('Table').TableName).toBe(names.table);
    expect(props('EventsDeliveryStream').DeliveryStreamName).toBe(names.eventsStream);
    expect(props('SesEventsStream').Name).toBe(names.reputationStream);
    const dlqs = resourcesOfType(dev.stack.template, 'AWS::SQS::Queue')
      .filter(([, q]) => !q.Properties?.RedrivePolicy)
      .map(([, q]) => q.Properties?.QueueName);
    expect(dlqs.sort()).toEqual([...names.deadLetterQueues].sort());
    // The smoke test reads each function's new-version errors by these names.
    const fns = resourcesOfType(dev.stack.template, 'AWS::Lambda::Function').map(([, f]) => f.Properties?.FunctionName);
    expect(fns.sort()).toEqual([...names.functions].sort());
  });

  it('puts every API route but the health check behind the Cognito JWT authorizer', () => {
    const auth = props('HttpApiAuthorizerCognito');
    expect(auth.AuthorizerType).toBe('JWT');
    expect(JSON.stringify(auth.JwtConfiguration.Issuer)).toContain('cognito-idp');
    const routes = resourcesOfType(dev.stack.template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties as any);
    expect(routes.length).toBeGreaterThan(1);
    // The Email API checks its own x-api-key (a key per tenant); the Reports API sits behind Cognito.
    const integrationOf = (r: any) => JSON.stringify(r.Target);
    for (const r of routes) {
      // The unsubscribe link's sealed token is its own credential (a mailbox provider posts it without any key).
      const open = ['EmailApi', 'IntegrationUnsubscribe'].some((f) => integrationOf(r).includes(f));
      if (r.RouteKey === 'GET /v1/health' || open) {
        expect([r.RouteKey, r.AuthorizationType]).toEqual([r.RouteKey, undefined]);
      } else {
        expect([r.RouteKey, r.AuthorizationType]).toEqual([r.RouteKey, 'JWT']);
      }
    }
    expect(routes.filter((r) => integrationOf(r).includes('EmailApi')).map((r) => r.RouteKey)).toContain(
      'POST /v1/messages',
    );
  });
});

// The dashboards' web hosting and sign-in (CloudFront, Cognito managed login, SAML): deploy/web-hosting-checks.ts.
describeWebHosting(() => dev.stack);

// In this file, after the dev package: two serverless runs at once in one repository share serverless-esbuild's
// work folder and break each other.
describe('serverless package --stage prod', () => {
  it('refuses to package prod without an alert target, in one line naming the fix', async () => {
    const err = await packageStack('prod').then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    const lines = err!.message.split('\n').filter((l) => l.includes('alert target'));
    expect(lines).toEqual([
      'stage prod needs an alert target for its alarm topic: pass --param="alertEmail=you@example.com" or --param="alertWebhook=https://..."',
    ]);
  }, 120_000);

  it('refuses to deploy to prod a package built without an alert target (before any AWS call)', async () => {
    // Credentials that AWS refuses: should the guard let it through, nothing could be deployed.
    const noAws = { AWS_ACCESS_KEY_ID: 'AKIDNOTVALID', AWS_SECRET_ACCESS_KEY: 'not-valid', AWS_PROFILE: '' };
    const err = (await runServerless(['deploy', '--stage', 'prod', '--package', dev.stack.dir], 120_000, noAws).then(
      () => null,
      (e: unknown) => e,
    )) as Error | null;
    expect(err?.message.split('\n').filter((l) => l.includes('alert target'))).toEqual([
      'stage prod needs an alert target for its alarm topic: pass --param="alertEmail=you@example.com" or --param="alertWebhook=https://..."',
    ]);
  }, 120_000);

  it('packages prod with a webhook target, subscribed to the alarm topic', async () => {
    const url = 'https://alerts.example.com/sesflow';
    const { template, dir } = await packageStack('prod', { args: [`--param=alertWebhook=${url}`] });
    rmSync(dir, { recursive: true, force: true });
    expect(template.Parameters?.AlertWebhookUrl?.Default).toBe(url);
    expect(new RegExp(template.Parameters!.AlertWebhookUrl!.AllowedPattern!).test(url)).toBe(true);
    expect(new RegExp(template.Parameters!.AlertWebhookUrl!.AllowedPattern!).test('http://plain.example.com')).toBe(
      false,
    );
    expect(template.Resources.AlertWebhookSubscription?.Properties?.Protocol).toBe('https');
    // prod shifts the API and stream functions gradually; the others at once, still through their alias.
    const shift = (fn: string) =>
      JSON.stringify(template.Resources[`${fn}LambdaFunctionDeploymentGroup`]?.Properties?.DeploymentConfigName);
    for (const fn of ['ReportsApi', 'EmailApi', 'Reputation', 'PushProducer'])
      expect([fn, shift(fn)]).toEqual([fn, expect.stringContaining('"ConfigName":"Canary10Percent10Minutes"')]);
    expect(shift('Pusher')).toContain('"ConfigName":"AllAtOnce"');
    expect(checkBlueGreen(template, 'live')).toEqual([]);
    expect(template.Resources.Table?.Properties?.DeletionProtectionEnabled).toBe(true);
  }, 120_000);
});

describe('sender authentication and one-click unsubscribe', () => {
  it('checks every tenant on a schedule, with a role that reads identities and writes only the table', () => {
    const fn = props('SenderAuthCheckLambdaFunction');
    expect(fn.Handler).toBe('enrich/sender-auth.handler.handler');
    expect(fn.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
    const rules = resourcesOfType(dev.stack.template, 'AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Properties?.Targets).includes('SenderAuthCheckLambdaFunction'),
    );
    expect(rules.map(([, r]) => r.Properties?.ScheduleExpression)).toEqual(['rate(1 hour)']);
    expect(referencedLogicalId(fn.Role)).toBe('SenderAuthCheckRole');
    const actions = JSON.stringify(props('SenderAuthCheckRole').Policies);
    for (const a of ['ses:GetEmailIdentity', 'ses:GetReputationEntity', 'ses:GetAccount', 'dynamodb:PutItem']) {
      expect(actions).toContain(a);
    }
    expect(actions).not.toContain('ses:Send');
  });

  it('serves the one-click endpoint from its own function, and gives the senders the token key', () => {
    const fn = props('UnsubscribeLambdaFunction');
    expect(fn.Handler).toBe('send/unsubscribe.handler.handler');
    expect(referencedLogicalId(fn.Role)).toBe('UnsubscribeRole');
    const routes = resourcesOfType(dev.stack.template, 'AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties as any)
      .filter((r) => JSON.stringify(r.Target).includes('IntegrationUnsubscribe'))
      .map((r) => r.RouteKey)
      .sort();
    expect(routes).toEqual(['GET /v1/unsubscribe', 'POST /v1/unsubscribe']);
    const policy = JSON.stringify(props('UnsubscribeRole').Policies);
    for (const a of ['ses:PutSuppressedDestination', 'firehose:PutRecord']) expect(policy).toContain(a);
    expect(res('UnsubscribeTokenSecret').Type).toBe('AWS::SecretsManager::Secret');
    for (const id of ['UnsubscribeLambdaFunction', 'EmailApiLambdaFunction', 'BulkWorkerLambdaFunction']) {
      const env = JSON.stringify(props(id).Environment.Variables);
      expect([id, env]).toEqual([id, expect.stringContaining('SESFLOW_UNSUBSCRIBE_SECRET')]);
      expect(env).toContain('UnsubscribeTokenSecret');
    }
  });
});
