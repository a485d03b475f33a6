/**
 * Checks over a CloudFormation template (the one `serverless package` writes), as plain functions that return the
 * problems they find, one line each. deploy/template.test.ts runs them on the packaged stack; the unit tests run them
 * on broken templates so every check is known to fail when it should.
 */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: string;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
  Parameters?: Record<string, { Type: string; Default?: unknown; AllowedPattern?: string }>;
  Conditions?: Record<string, unknown>;
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

/** Actions that have no resource-level permissions, so IAM accepts them only with `Resource: "*"`. */
export const RESOURCE_STAR_ALLOWED = new Set([
  'ses:GetAccount',
  'ses:PutSuppressedDestination',
  // Like Put: a suppression-list call that names no resource (the tenant is a parameter).
  'ses:GetSuppressedDestination',
]);

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `{"Fn::GetAtt": ["X", "Arn"]}` or `{"Ref": "X"}` → `X`; anything else → undefined. */
export function referencedLogicalId(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.Ref === 'string') return o.Ref;
  const att = o['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string') return att[0];
  if (typeof att === 'string') return att.split('.')[0];
  return undefined;
}

export function resourcesOfType(t: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

/** Every policy statement in the template, with where it came from. */
export function policyStatements(t: CfnTemplate): { where: string; identity: boolean; statement: PolicyStatement }[] {
  const out: { where: string; identity: boolean; statement: PolicyStatement }[] = [];
  const add = (where: string, identity: boolean, doc: unknown) => {
    const statements = (doc as { Statement?: PolicyStatement | PolicyStatement[] } | undefined)?.Statement;
    for (const statement of asArray(statements)) out.push({ where, identity, statement });
  };
  for (const [id, r] of Object.entries(t.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Role') {
      for (const pol of asArray(p.Policies as { PolicyName: string; PolicyDocument: unknown }[] | undefined)) {
        add(`${id}/${pol.PolicyName}`, true, pol.PolicyDocument);
      }
    } else if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      add(id, true, p.PolicyDocument);
    } else if (
      r.Type === 'AWS::S3::BucketPolicy' ||
      r.Type === 'AWS::SQS::QueuePolicy' ||
      r.Type === 'AWS::SNS::TopicPolicy'
    ) {
      add(id, false, p.PolicyDocument);
    } else if (r.Type === 'AWS::KMS::Key') {
      add(id, false, p.KeyPolicy);
    }
  }
  return out;
}

/**
 * Least privilege: no Allow statement names an action with a wildcard (`*`, `s3:*`, `s3:Get*`) or uses NotAction, and
 * an identity policy grants `Resource: "*"` only for actions that have no resource-level permissions.
 */
export function checkLeastPrivilege(t: CfnTemplate): string[] {
  const problems: string[] = [];
  for (const { where, identity, statement } of policyStatements(t)) {
    if (statement.Effect !== 'Allow') continue;
    if (statement.NotAction !== undefined) problems.push(`${where}: Allow with NotAction`);
    const actions = asArray(statement.Action);
    for (const a of actions) if (a.includes('*')) problems.push(`${where}: wildcard action ${a}`);
    if (!identity) continue;
    const resources = asArray(statement.Resource);
    if (resources.includes('*')) {
      for (const a of actions) {
        if (!RESOURCE_STAR_ALLOWED.has(a)) problems.push(`${where}: ${a} on Resource "*"`);
      }
    }
  }
  return problems;
}

/** Every Lambda function has a role of its own, defined in the template, that only Lambda may assume. */
export function checkRolePerFunction(t: CfnTemplate): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string>();
  for (const [id, fn] of resourcesOfType(t, 'AWS::Lambda::Function')) {
    const role = referencedLogicalId(fn.Properties?.Role);
    if (!role) {
      problems.push(`${id}: role is not a role of this template`);
      continue;
    }
    const r = t.Resources[role];
    if (r?.Type !== 'AWS::IAM::Role') problems.push(`${id}: ${role} is not an AWS::IAM::Role`);
    const trust = asArray((r?.Properties?.AssumeRolePolicyDocument as { Statement?: PolicyStatement[] })?.Statement);
    const principals = trust.map((s) => JSON.stringify(s.Principal));
    if (principals.length !== 1 || principals[0] !== JSON.stringify({ Service: 'lambda.amazonaws.com' })) {
      problems.push(`${id}: ${role} is not assumable by Lambda alone`);
    }
    const other = owners.get(role);
    if (other) problems.push(`${id}: shares role ${role} with ${other}`);
    owners.set(role, id);
  }
  if (t.Resources.IamRoleLambdaExecution) problems.push('the shared IamRoleLambdaExecution role exists');
  return problems;
}

/**
 * Every queue has a dead-letter queue: a redrive policy to a queue of the template, unless it is itself a dead-letter
 * target (of a redrive policy, of an event source mapping's on-failure destination, or of an EventBridge target).
 */
export function checkQueuesHaveDlq(t: CfnTemplate): string[] {
  const queues = new Set(resourcesOfType(t, 'AWS::SQS::Queue').map(([id]) => id));
  const deadLetterTargets = new Set<string>();
  for (const id of queues) {
    const target = referencedLogicalId(
      (t.Resources[id]?.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)
        ?.deadLetterTargetArn,
    );
    if (target) deadLetterTargets.add(target);
  }
  for (const [, m] of resourcesOfType(t, 'AWS::Lambda::EventSourceMapping')) {
    const dest = (m.Properties?.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure;
    const id = referencedLogicalId(dest?.Destination);
    if (id) deadLetterTargets.add(id);
  }
  for (const [, rule] of resourcesOfType(t, 'AWS::Events::Rule')) {
    for (const target of asArray(rule.Properties?.Targets as { DeadLetterConfig?: { Arn?: unknown } }[])) {
      const id = referencedLogicalId(target.DeadLetterConfig?.Arn);
      if (id) deadLetterTargets.add(id);
    }
  }
  const problems: string[] = [];
  for (const id of queues) {
    if (deadLetterTargets.has(id)) continue;
    const redrive = t.Resources[id]?.Properties?.RedrivePolicy as
      | { deadLetterTargetArn?: unknown; maxReceiveCount?: number }
      | undefined;
    const target = referencedLogicalId(redrive?.deadLetterTargetArn);
    if (!redrive) problems.push(`${id}: no dead-letter queue (no redrive policy)`);
    else if (!target || !queues.has(target))
      problems.push(
        `${id}: dead-letter target ${target ?? JSON.stringify(redrive.deadLetterTargetArn)} is not a queue of the template`,
      );
    else if (!redrive?.maxReceiveCount || redrive.maxReceiveCount < 1) problems.push(`${id}: no maxReceiveCount`);
  }
  return problems;
}

/** Every bucket blocks all public access and is encrypted (with the KMS key, except the framework's deploy bucket). */
export function checkBuckets(t: CfnTemplate, kmsExempt: readonly string[] = ['ServerlessDeploymentBucket']): string[] {
  const problems: string[] = [];
  for (const [id, b] of resourcesOfType(t, 'AWS::S3::Bucket')) {
    const pab = (b.Properties?.PublicAccessBlockConfiguration ?? {}) as Record<string, unknown>;
    for (const k of ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets']) {
      if (pab[k] !== true) problems.push(`${id}: ${k} is not true`);
    }
    const rules = asArray(
      (b.Properties?.BucketEncryption as { ServerSideEncryptionConfiguration?: unknown[] } | undefined)
        ?.ServerSideEncryptionConfiguration as { ServerSideEncryptionByDefault?: { SSEAlgorithm?: string } }[],
    );
    const algorithm = rules[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm;
    if (!algorithm) problems.push(`${id}: not encrypted`);
    else if (algorithm !== 'aws:kms' && !kmsExempt.includes(id))
      problems.push(`${id}: encrypted with ${algorithm}, not KMS`);
  }
  return problems;
}

/** Firehose streams with dynamic partitioning have an error prefix naming the error type, and S3 prefix expressions. */
export function checkDynamicPartitioning(t: CfnTemplate): string[] {
  const problems: string[] = [];
  for (const [id, s] of resourcesOfType(t, 'AWS::KinesisFirehose::DeliveryStream')) {
    const s3 = s.Properties?.ExtendedS3DestinationConfiguration as Record<string, unknown> | undefined;
    const dp = s3?.DynamicPartitioningConfiguration as { Enabled?: boolean } | undefined;
    if (!dp?.Enabled) continue;
    const errorPrefix = s3?.ErrorOutputPrefix;
    if (typeof errorPrefix !== 'string' || !errorPrefix.includes('!{firehose:error-output-type}')) {
      problems.push(`${id}: dynamic partitioning without an ErrorOutputPrefix naming !{firehose:error-output-type}`);
    }
    const prefix = s3?.Prefix;
    if (typeof prefix !== 'string' || !/!\{partitionKeyFrom(Lambda|Query):/.test(prefix)) {
      problems.push(`${id}: dynamic partitioning without partition keys in the Prefix`);
    }
  }
  return problems;
}

/** The logical ids a value refers to with Ref or Fn::GetAtt (pseudo parameters such as AWS::Region excluded). */
export function referencedIds(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencedIds(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) out.add(v);
      else if (k === 'Fn::GetAtt') out.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]!);
      else referencedIds(v, out);
    }
  }
  return out;
}

/** cfn-lint W3005: a DependsOn entry that a Ref or GetAtt in the same resource already implies. */
export function checkRedundantDependsOn(t: CfnTemplate): string[] {
  const problems: string[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const implied = referencedIds(r.Properties);
    for (const dep of asArray(r.DependsOn)) if (implied.has(dep)) problems.push(`${id}: DependsOn ${dep} is implied`);
  }
  return problems;
}

/** The major version of every function's Node.js runtime (NaN for a runtime that is not Node.js). */
export function nodeRuntimes(t: CfnTemplate): { id: string; runtime: string; major: number }[] {
  return resourcesOfType(t, 'AWS::Lambda::Function').map(([id, fn]) => {
    const runtime = String(fn.Properties?.Runtime);
    const m = /^nodejs(\d+)\.x$/.exec(runtime);
    return { id, runtime, major: m ? Number(m[1]) : Number.NaN };
  });
}

/** Something that writes to an encrypted resource: a service through the key policy, or a role of the template. */
export type KmsWriter = { kind: 'service'; service: string; via: string } | { kind: 'role'; role: string; via: string };

const WRITE_ACTIONS: Record<string, readonly string[]> = {
  'AWS::SQS::Queue': ['sqs:SendMessage'],
  'AWS::SNS::Topic': ['sns:Publish'],
  'AWS::S3::Bucket': ['s3:PutObject'],
  'AWS::Kinesis::Stream': ['kinesis:PutRecord', 'kinesis:PutRecords'],
};

/** What a writer needs of the key: SQS and SNS decrypt the data key they generate; S3 and Kinesis only generate. */
function kmsActionsFor(type: string): string[] {
  return type === 'AWS::SQS::Queue' || type === 'AWS::SNS::Topic'
    ? ['kms:GenerateDataKey', 'kms:Decrypt']
    : ['kms:GenerateDataKey'];
}

/** The KMS key (logical id) a queue, topic, bucket or stream is encrypted with; undefined when none of the template. */
export function encryptionKeyOf(r: CfnResource): string | undefined {
  const p = r.Properties ?? {};
  if (r.Type === 'AWS::SQS::Queue' || r.Type === 'AWS::SNS::Topic') return referencedLogicalId(p.KmsMasterKeyId);
  if (r.Type === 'AWS::Kinesis::Stream') return referencedLogicalId((p.StreamEncryption as { KeyId?: unknown })?.KeyId);
  if (r.Type === 'AWS::S3::Bucket') {
    const rules = asArray(
      (p.BucketEncryption as { ServerSideEncryptionConfiguration?: unknown })?.ServerSideEncryptionConfiguration as {
        ServerSideEncryptionByDefault?: { KMSMasterKeyID?: unknown };
      }[],
    );
    return referencedLogicalId(rules[0]?.ServerSideEncryptionByDefault?.KMSMasterKeyID);
  }
  return undefined;
}

/**
 * Every writer of each resource: EventBridge rules (SQS/SNS targets and dead-letter queues; a target with a role
 * writes as that role), CloudWatch alarm actions, SNS subscriptions of queues, Lambda destinations (event source
 * mapping and async on-failure/on-success: the function's role), redrive (the source queue), Firehose destinations
 * (the stream's role) and every role whose policy allows a write action on the resource.
 */
export function kmsWriters(t: CfnTemplate): Map<string, KmsWriter[]> {
  const writers = new Map<string, KmsWriter[]>();
  const add = (target: unknown, w: KmsWriter) => {
    const id = referencedLogicalId(target);
    if (!id || !t.Resources[id]) return;
    const list = writers.get(id) ?? [];
    if (!list.some((x) => JSON.stringify(x) === JSON.stringify(w))) list.push(w);
    writers.set(id, list);
  };
  const functionRole = (fn: unknown) => referencedLogicalId(t.Resources[functionOf(t, fn) ?? '']?.Properties?.Role);
  for (const [id, r] of Object.entries(t.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::Events::Rule') {
      for (const target of asArray(
        p.Targets as { Arn?: unknown; RoleArn?: unknown; DeadLetterConfig?: { Arn?: unknown } }[],
      )) {
        const role = referencedLogicalId(target.RoleArn);
        add(
          target.Arn,
          role
            ? { kind: 'role', role, via: `${id} target` }
            : { kind: 'service', service: 'events.amazonaws.com', via: `${id} target` },
        );
        add(target.DeadLetterConfig?.Arn, {
          kind: 'service',
          service: 'events.amazonaws.com',
          via: `${id} dead-letter queue`,
        });
      }
    } else if (r.Type === 'AWS::CloudWatch::Alarm') {
      for (const a of [...asArray(p.AlarmActions), ...asArray(p.OKActions), ...asArray(p.InsufficientDataActions)])
        add(a, { kind: 'service', service: 'cloudwatch.amazonaws.com', via: `${id} action` });
    } else if (r.Type === 'AWS::SNS::Subscription' && p.Protocol === 'sqs') {
      add(p.Endpoint, { kind: 'service', service: 'sns.amazonaws.com', via: `${id}` });
    } else if (r.Type === 'AWS::Lambda::EventSourceMapping' || r.Type === 'AWS::Lambda::EventInvokeConfig') {
      const role = functionRole(p.FunctionName);
      const dc = (p.DestinationConfig ?? {}) as Record<string, { Destination?: unknown } | undefined>;
      for (const d of [dc.OnFailure, dc.OnSuccess])
        if (role && d) add(d.Destination, { kind: 'role', role, via: `${id} destination` });
    } else if (r.Type === 'AWS::SQS::Queue' && p.RedrivePolicy) {
      const target = (p.RedrivePolicy as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
      add(target, { kind: 'service', service: `redrive:${id}`, via: `${id} redrive` });
    } else if (r.Type === 'AWS::KinesisFirehose::DeliveryStream') {
      type Dest = { BucketARN?: unknown; RoleARN?: unknown; S3Configuration?: Dest } | undefined;
      for (const dest of [
        p.ExtendedS3DestinationConfiguration as Dest,
        p.S3DestinationConfiguration as Dest,
        (p.AmazonOpenSearchServerlessDestinationConfiguration as Dest)?.S3Configuration,
      ]) {
        const role = referencedLogicalId(dest?.RoleARN);
        if (dest && role) add(dest.BucketARN, { kind: 'role', role, via: `${id} delivery` });
      }
    } else if (r.Type === 'AWS::IAM::Role') {
      for (const pol of asArray(p.Policies as { PolicyName: string; PolicyDocument: { Statement?: unknown } }[])) {
        for (const s of asArray(pol.PolicyDocument?.Statement as PolicyStatement[] | PolicyStatement)) {
          if (s.Effect !== 'Allow') continue;
          for (const tid of referencedIds(s.Resource)) {
            const writes = WRITE_ACTIONS[t.Resources[tid]?.Type ?? ''];
            if (writes && asArray(s.Action).some((a) => writes.includes(a)))
              add({ Ref: tid }, { kind: 'role', role: id, via: `${id}/${pol.PolicyName}` });
          }
        }
      }
    }
  }
  return writers;
}

/** The KMS actions a role's own policies allow on a key (Resource naming the key). */
function roleKmsActions(t: CfnTemplate, role: string, key: string): Set<string> {
  const out = new Set<string>();
  for (const pol of asArray(t.Resources[role]?.Properties?.Policies as { PolicyDocument: { Statement?: unknown } }[])) {
    for (const s of asArray(pol.PolicyDocument?.Statement as PolicyStatement[] | PolicyStatement)) {
      if (s.Effect === 'Allow' && asArray(s.Resource).some((r) => referencedIds(r).has(key)))
        for (const a of asArray(s.Action)) out.add(a);
    }
  }
  return out;
}

/** The KMS actions a key policy allows a principal (`{Service: x}` or the account root, which delegates to IAM). */
function keyPolicyActions(t: CfnTemplate, key: string, principal: (p: unknown) => boolean): Set<string> {
  const out = new Set<string>();
  const doc = t.Resources[key]?.Properties?.KeyPolicy as { Statement?: unknown } | undefined;
  for (const s of asArray(doc?.Statement as PolicyStatement[] | PolicyStatement)) {
    if (s.Effect === 'Allow' && principal(s.Principal)) for (const a of asArray(s.Action)) out.add(a);
  }
  return out;
}

const isService = (service: string) => (p: unknown) =>
  asArray((p as { Service?: string | string[] } | undefined)?.Service).includes(service);
const isAccountRoot = (p: unknown) => JSON.stringify((p as { AWS?: unknown } | undefined)?.AWS ?? '').includes(':root');

/**
 * Every writer of every encrypted queue, topic, bucket and stream may use its key: a service principal through the
 * key policy; a role through its own policy and a key policy that delegates to IAM (the account root); a redrive
 * source queue through encryption with the same key (SQS moves the message with the source queue's key grant).
 */
export function checkKmsWriters(t: CfnTemplate): string[] {
  const problems: string[] = [];
  for (const [id, ws] of kmsWriters(t)) {
    const r = t.Resources[id]!;
    const key = encryptionKeyOf(r);
    if (!key || !WRITE_ACTIONS[r.Type]) continue;
    const needed = kmsActionsFor(r.Type);
    for (const w of ws) {
      let missing: string[];
      if (w.kind === 'role') {
        const granted = roleKmsActions(t, w.role, key);
        const delegated = keyPolicyActions(t, key, isAccountRoot);
        missing = needed.filter((a) => !granted.has(a) || !delegated.has(a));
      } else if (w.service.startsWith('redrive:')) {
        const source = w.service.slice('redrive:'.length);
        const sourceKey = encryptionKeyOf(t.Resources[source]!);
        if (sourceKey !== key)
          problems.push(`${id} (encrypted with ${key}): redrive from ${source}, encrypted with ${sourceKey}`);
        continue;
      } else {
        const granted = keyPolicyActions(t, key, isService(w.service));
        missing = needed.filter((a) => !granted.has(a));
      }
      if (missing.length > 0) {
        const who = w.kind === 'role' ? w.role : w.service;
        problems.push(`${id} (encrypted with ${key}): ${who} writes via ${w.via} but lacks ${missing.join(', ')}`);
      }
    }
  }
  return problems;
}

/** The function a reference names: a function itself, or the function behind an alias (blue/green). */
export function functionOf(t: CfnTemplate, ref: unknown): string | undefined {
  const id = referencedLogicalId(ref);
  const r = id ? t.Resources[id] : undefined;
  if (r?.Type === 'AWS::Lambda::Alias') return referencedLogicalId(r.Properties?.FunctionName);
  return id;
}

/**
 * Blue/green: every function is published behind an alias of the given name, pointing at a version of that
 * function and updated by CodeDeploy (UpdatePolicy) through a deployment group that rolls back on alarms; every
 * event source mapping, API integration and invoke permission targets the alias, never the function itself; the
 * group's alarms include the errors of the version being deployed (ExecutedVersion) and the alias's throttles.
 */
export function checkBlueGreen(t: CfnTemplate, alias: string): string[] {
  const problems: string[] = [];
  const aliases = resourcesOfType(t, 'AWS::Lambda::Alias');
  for (const [fnId] of resourcesOfType(t, 'AWS::Lambda::Function')) {
    const found = aliases.find(([, a]) => referencedLogicalId(a.Properties?.FunctionName) === fnId);
    if (!found) {
      problems.push(`${fnId}: no alias`);
      continue;
    }
    const [aliasId, a] = found;
    if (a.Properties?.Name !== alias) problems.push(`${aliasId}: named ${String(a.Properties?.Name)}, not ${alias}`);
    const versionId = referencedLogicalId(a.Properties?.FunctionVersion);
    const version = versionId ? t.Resources[versionId] : undefined;
    if (version?.Type !== 'AWS::Lambda::Version' || referencedLogicalId(version.Properties?.FunctionName) !== fnId)
      problems.push(`${aliasId}: does not point at a version of ${fnId}`);
    const update = (a as { UpdatePolicy?: { CodeDeployLambdaAliasUpdate?: { DeploymentGroupName?: unknown } } })
      .UpdatePolicy?.CodeDeployLambdaAliasUpdate;
    const groupId = referencedLogicalId(update?.DeploymentGroupName);
    const group = groupId ? t.Resources[groupId] : undefined;
    if (group?.Type !== 'AWS::CodeDeploy::DeploymentGroup') {
      problems.push(`${aliasId}: not shifted by a CodeDeploy deployment group`);
      continue;
    }
    const gp = group.Properties as {
      AutoRollbackConfiguration?: { Enabled?: boolean; Events?: string[] };
      AlarmConfiguration?: { Enabled?: boolean; Alarms?: { Name?: unknown }[] };
    };
    if (
      !gp.AutoRollbackConfiguration?.Enabled ||
      !gp.AutoRollbackConfiguration.Events?.includes('DEPLOYMENT_STOP_ON_ALARM')
    )
      problems.push(`${groupId}: does not roll back on alarms`);
    const alarms = (gp.AlarmConfiguration?.Enabled ? (gp.AlarmConfiguration.Alarms ?? []) : [])
      .map((x) => referencedLogicalId(x.Name))
      .map(
        (id) =>
          (id ? t.Resources[id]?.Properties : undefined) as
            | { MetricName?: string; Dimensions?: { Name: string; Value: unknown }[] }
            | undefined,
      );
    const dims = (m: { Dimensions?: { Name: string; Value: unknown }[] } | undefined, name: string) =>
      m?.Dimensions?.find((d) => d.Name === name)?.Value;
    const newVersionErrors = alarms.some(
      (m) =>
        m?.MetricName === 'Errors' &&
        referencedLogicalId(dims(m, 'FunctionName')) === fnId &&
        referencedLogicalId(dims(m, 'ExecutedVersion')) === versionId,
    );
    const throttles = alarms.some(
      (m) => m?.MetricName === 'Throttles' && referencedLogicalId(dims(m, 'FunctionName')) === fnId,
    );
    if (!newVersionErrors) problems.push(`${groupId}: no alarm on the errors of the new version`);
    if (!throttles) problems.push(`${groupId}: no alarm on throttles`);
  }
  const invokers: [string, unknown][] = [
    ...resourcesOfType(t, 'AWS::Lambda::EventSourceMapping').map(
      ([id, r]) => [id, r.Properties?.FunctionName] as [string, unknown],
    ),
    ...resourcesOfType(t, 'AWS::Lambda::Permission').map(
      ([id, r]) => [id, r.Properties?.FunctionName] as [string, unknown],
    ),
    ...resourcesOfType(t, 'AWS::ApiGatewayV2::Integration').map(
      ([id, r]) => [id, r.Properties?.IntegrationUri] as [string, unknown],
    ),
  ];
  for (const [id, target] of invokers) {
    const ids = referencedIds(target);
    for (const ref of ids)
      if (t.Resources[ref]?.Type === 'AWS::Lambda::Function') problems.push(`${id}: invokes ${ref}, not its alias`);
  }
  return problems;
}
