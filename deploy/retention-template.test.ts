import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION_POLICY } from '../privacy/retention';
import { type PackagedStack, packageStack } from './package-stack';

/** The retention the template enforces: S3 lifecycle rules of the lake bucket, per prefix (docs/OPERATIONS.md). */
let stack: PackagedStack;

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

beforeAll(async () => {
  stack = await packageStack('dev');
}, 120_000);

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
