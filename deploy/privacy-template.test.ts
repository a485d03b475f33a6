import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION_POLICY } from '../privacy/retention';
import { type PackagedStack, packageStack } from './package-stack';

/**
 * What the template enforces for privacy (one package for both): the erasure function of a stage
 * (privacy/erase.handler.ts), its key, role and search access; the retention of the lake (S3 lifecycle rules per
 * prefix, docs/OPERATIONS.md).
 */
let stack: PackagedStack;
const typeOf = (id: string) => stack.template.Resources[id]?.Type;
const props = (id: string) => (stack.template.Resources[id]?.Properties ?? {}) as Record<string, any>;
const statements = () =>
  props('EraseRecipientRole').Policies[0].PolicyDocument.Statement as { Action: string[]; Resource: unknown }[];
const actions = () => statements().flatMap((s) => s.Action);

beforeAll(async () => {
  stack = await packageStack('dev');
}, 600_000);
afterAll(() => {
  if (stack) rmSync(stack.dir, { recursive: true, force: true });
});

describe('the erasure function in the template (stage dev)', () => {
  it('is a function of its own, x86_64 on Node 22 or later, with the longest Lambda timeout', () => {
    expect(typeOf('EraseRecipientLambdaFunction')).toBe('AWS::Lambda::Function');
    const f = props('EraseRecipientLambdaFunction');
    expect(f.Handler).toBe('privacy/erase.handler.handler');
    expect(f.Architectures).toEqual(['x86_64']);
    expect(Number(/nodejs(\d+)\.x/.exec(f.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
    expect(f.Timeout).toBe(900);
    expect(Object.keys(f.Environment.Variables)).toEqual(
      expect.arrayContaining([
        'SESFLOW_ERASURE_KEY_SECRET_ID',
        'SESFLOW_LAKE_BUCKET',
        'SESFLOW_LAKE_TABLE',
        'SESFLOW_ATHENA_WORKGROUP',
      ]),
    );
    expect(JSON.stringify(f.Environment.Variables.SESFLOW_ERASURE_KEY_SECRET_ID)).toContain('ErasureKey');
    expect(f.Environment.Variables.SESFLOW_ERASURE_KEY).toBeUndefined();
  });

  it('has a generated, encrypted key that is kept', () => {
    expect(typeOf('ErasureKey')).toBe('AWS::SecretsManager::Secret');
    expect(props('ErasureKey').GenerateSecretString.PasswordLength).toBeGreaterThanOrEqual(32);
    expect(props('ErasureKey').KmsKeyId).toBeDefined();
  });

  it('may scan and rewrite what holds an address, and nothing wider', () => {
    expect(actions()).toEqual(
      expect.arrayContaining([
        'dynamodb:Scan',
        'dynamodb:DeleteItem',
        'athena:StartQueryExecution',
        's3:PutObject',
        's3:DeleteObjectVersion',
        's3:ListBucketVersions',
        'aoss:APIAccessAll',
      ]),
    );
    expect(actions().some((a) => a.endsWith(':*'))).toBe(false);
    const writes = statements().find(
      (s) => s.Action.includes('s3:PutObject') && JSON.stringify(s.Resource).includes('LakeBucket'),
    )!;
    expect(JSON.stringify(writes.Resource)).toContain('/events/*');
    expect(JSON.stringify(writes.Resource)).toContain('/errors/*');
  });

  it("is what the Reports API's POST /v1/erasures invokes: its live alias, and only that function", () => {
    const env = props('ReportsApiLambdaFunction').Environment.Variables;
    expect(env.SESFLOW_ERASE_FUNCTION).toBe('sesflow-dev-erase-recipient:live');
    const invoke = (
      props('ReportsApiRole').Policies[0].PolicyDocument.Statement as { Action: string[]; Resource: unknown }[]
    ).filter((s) => s.Action.some((a) => a.startsWith('lambda:')));
    expect(invoke.map((s) => s.Action)).toEqual([['lambda:InvokeFunction']]);
    expect(JSON.stringify(invoke[0]!.Resource)).toContain(':function:sesflow-dev-erase-recipient:live');
  });

  it('may delete documents of both search indexes', () => {
    const policy = JSON.stringify(props('EraseSearchAccessPolicy').Policy);
    expect(policy).toContain('aoss:WriteDocument');
    expect(policy).toContain('EraseRecipientRole');
  });

  it("packages DuckDB's native binding for linux-x64 beside the function's bundle; the package loads and runs it", () => {
    const zip = join(stack.dir, 'eraseRecipient.zip');
    expect(existsSync(zip)).toBe(true);
    expect(statSync(zip).size).toBeGreaterThan(5_000_000);
    // The other functions do not carry it.
    expect(statSync(join(stack.dir, 'pusher.zip')).size).toBeLessThan(5_000_000);
    const dir = mkdtempSync(join(tmpdir(), 'sesflow-erase-pkg-'));
    try {
      execFileSync('unzip', ['-q', zip, '-d', dir]);
      const script = `import(${JSON.stringify(join(dir, 'privacy', 'erase.handler.mjs'))}).then(async (m) => {
        const refused = await m.handler({ address: 'not an address', reason: 'test', requestedBy: 'test' });
        const { DuckDBInstance } = await import(${JSON.stringify(join(dir, 'node_modules', '@duckdb', 'node-api', 'lib', 'index.js'))});
        const c = await (await DuckDBInstance.create(':memory:')).connect();
        const x = (await c.runAndReadAll('SELECT 6 * 7 AS x')).getRowObjectsJS()[0].x;
        process.stdout.write(JSON.stringify({ refused, x }));
      })`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'us-east-1',
          SESFLOW_ERASURE_KEY: 'k'.repeat(40),
          SESFLOW_TABLE: 'sesflow-dev',
          SESFLOW_LAKE_BUCKET: 'lake',
          SESFLOW_ATHENA_WORKGROUP: 'wg',
          SESFLOW_GLUE_DATABASE: 'db',
          SESFLOW_LAKE_TABLE: 'events_raw',
        },
      }).toString();
      expect(JSON.parse(out)).toEqual({ refused: { error: 'address: not an email address (local@domain)' }, x: 42 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

interface Rule {
  Id: string;
  Status: string;
  Prefix?: string;
  ExpirationInDays?: number;
  Transitions?: unknown[];
}

const rulesOf = () =>
  (stack.template.Resources.LakeBucket!.Properties as { LifecycleConfiguration: { Rules: Rule[] } })
    .LifecycleConfiguration.Rules;

/** The enabled rule that expires objects under `prefix`. */
const expiring = (prefix: string) =>
  rulesOf().filter((r) => r.Status === 'Enabled' && r.Prefix === prefix && r.ExpirationInDays);

describe('lake retention in the template (stage dev)', () => {
  it('raw events expire after 400 days by default, as sesflow compact --retention deletes them', () => {
    const rules = expiring('events/');
    expect(rules).toHaveLength(1);
    expect(rules[0]!.ExpirationInDays).toBe(DEFAULT_RETENTION_POLICY.rawDays);
    expect(DEFAULT_RETENTION_POLICY.rawDays).toBe(400);
  });

  it('rollups are kept longer than raw events', () => {
    const rules = expiring('rollups/');
    expect(rules).toHaveLength(1);
    expect(rules[0]!.ExpirationInDays).toBe(DEFAULT_RETENTION_POLICY.rollupDays);
    expect(rules[0]!.ExpirationInDays!).toBeGreaterThan(expiring('events/')[0]!.ExpirationInDays!);
  });

  it("error records expire after the stage's days (dev: 30)", () => {
    const rules = expiring('errors/');
    expect(rules).toHaveLength(1);
    expect(rules[0]!.ExpirationInDays).toBe(30);
  });

  it('rewritten or expired versions of lake objects (an erasure, a compaction) are removed, not kept', () => {
    const versions = rulesOf().filter(
      (r) =>
        r.Status === 'Enabled' &&
        (r as { NoncurrentVersionExpiration?: { NoncurrentDays: number } }).NoncurrentVersionExpiration,
    );
    expect(versions.length).toBeGreaterThan(0);
  });
});

describe('the Reports API and raw retention (stage dev)', () => {
  it('knows the raw retention and the lake bucket, and may read the rollups Athena answers whole days from', () => {
    const vars = props('ReportsApiLambdaFunction').Environment.Variables;
    expect(vars.SESFLOW_RAW_RETENTION_DAYS).toBe(String(DEFAULT_RETENTION_POLICY.rawDays));
    expect(vars.SESFLOW_LAKE_BUCKET).toEqual({ Ref: 'LakeBucket' });
    const reads = (
      props('ReportsApiRole').Policies[0].PolicyDocument.Statement as { Action: string[]; Resource: unknown }[]
    )
      .filter((s) => s.Action.includes('s3:GetObject'))
      .map((s) => JSON.stringify(s.Resource));
    expect(reads.some((r) => r.includes('/rollups/*'))).toBe(true);
  });
});
