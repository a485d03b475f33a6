import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { queryAll } from '../lib/dynamodb-query';
import { GSI1, keys } from '../lib/table-design';
import { TenantStoreError, TransitionRefusedError } from './errors';
import type {
  DecisionRecord,
  ProfileInput,
  StateChange,
  TenantProfile,
  TenantRepository,
  TenantReputationState,
} from './ports';
import { asTenantStatus, type Evidence, type TenantAuditEntry, type TenantView } from './status';

const isConditionFailure = (err: unknown) =>
  (err instanceof TransactionCanceledException &&
    (err.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed')) ||
  (err instanceof Error && err.name === 'ConditionalCheckFailedException');

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function profileOf(item: Record<string, unknown>): TenantProfile {
  return {
    tenantId: String(item.tenantId ?? item.gsi1sk ?? String(item.pk).slice('TENANT#'.length)),
    status: asTenantStatus(item.status) ?? 'active',
    statusReason: str(item.statusReason),
    statusSince: str(item.statusSince),
    policy: str(item.reputationPolicy) ?? 'standard',
    configurationSet: str(item.configurationSet) ?? '',
    sesTenantName: str(item.sesTenantName) ?? '',
    sendingDomains: Array.isArray(item.sendingDomains) ? item.sendingDomains.map(String) : [],
    createdAt: str(item.createdAt) ?? '',
    oauthClientIds: Array.isArray(item.oauthClientIds) ? item.oauthClientIds.map(String) : [],
    mtlsSubjects: Array.isArray(item.mtlsSubjects) ? item.mtlsSubjects.map(String) : [],
  };
}

/**
 * The dashboards' view. The profile's `status` is the one the send gate enforces, so a paused or suspended profile
 * is the state. A warning lives only on the reputation item (the profile stays `active`), so a warned tenant whose
 * profile is active is `warning`. The reputation item adds the evidence and, without a profile status, the state.
 */
function viewOf(tenantId: string, rep?: Record<string, unknown>, profile?: Record<string, unknown>): TenantView {
  const profileState = asTenantStatus(profile?.status);
  const repState = asTenantStatus(rep?.state) ?? 'active';
  const state =
    profileState === null || (profileState === 'active' && repState === 'warning') ? repState : profileState;
  return {
    tenantId,
    state,
    since: str(rep?.since) ?? str(profile?.statusSince),
    evidence: (rep?.evidence as Evidence | undefined) ?? null,
    awsVerdict: str(rep?.awsVerdict),
    policy: str(profile?.reputationPolicy) ?? 'standard',
  };
}

function auditOf(tenantId: string, i: Record<string, unknown>): TenantAuditEntry {
  return {
    tenantId,
    at: String(i.at),
    id: String(i.id),
    action: String(i.action),
    actor: String(i.actor),
    reason: String(i.reason),
    ...(typeof i.note === 'string' ? { note: i.note } : {}),
    fromState: asTenantStatus(i.fromState) ?? 'active',
    toState: asTenantStatus(i.toState) ?? 'active',
    ...(i.evidence ? { evidence: i.evidence as Evidence } : {}),
    ...(typeof i.keyId === 'string' ? { keyId: i.keyId } : {}),
  };
}

/** The values a condition names: `:p` / `:u` (the held states), `:from` (the status a move starts from). */
function conditionValues(condition: string, from: string | undefined): Record<string, string> {
  return {
    ...(condition.includes(':p') ? { ':p': 'paused', ':u': 'suspended' } : {}),
    ...(condition.includes(':from') && from ? { ':from': from } : {}),
  };
}

/** The evidence of an automatic decision, with when it was decided. */
const decisionEvidence = (d: DecisionRecord, at: Date): Evidence => ({
  ...d.evidence,
  decidedAt: at.toISOString(),
  summary: d.reasons.join('; '),
  kind: 'automatic',
});

/**
 * The tenant item in the single table (lib/table-design.ts), the only code that writes it:
 * - profile `TENANT#<id>` / `PROFILE` (gsi1 `TENANTS` / `<id>`): `status`, `statusReason` (tenant-visible),
 *   `statusSince` (the send gate reads them), `reputationPolicy`, `configurationSet`, `sesTenantName`,
 *   `sendingDomains`, `createdAt`;
 * - reputation item `REPUTATION` (gsi1 `REPUTATION` / `<id>`): `state`, `since`, `evidence`, `reasons`,
 *   `armedSince` (the last resume), `awsVerdict`;
 * - audit `AUDIT#<iso>#<id>` (gsi1 `AUDIT` / `<iso>`): `reason` (tenant-visible), `note` (internal), `evidence`.
 * A move writes profile, reputation item and audit entry in one transaction, on the condition that the profile's
 * status is still the one the move started from: two officers acting at once cannot both win.
 */
export class DynamoDbTenantRepository implements TenantRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private get(key: { pk: string; sk: string }) {
    return this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
  }

  private byGsi(pk: string) {
    return queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: GSI1,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
    });
  }

  async getProfile(tenantId: string): Promise<TenantProfile | null> {
    const out = await this.get(keys.tenantProfile(tenantId));
    return out.Item ? profileOf(out.Item) : null;
  }

  async listProfiles(): Promise<TenantProfile[]> {
    return (await this.byGsi('TENANTS')).map(profileOf).sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  }

  async registerProfile(input: ProfileInput, at: string): Promise<{ profile: TenantProfile; created: boolean }> {
    let old: Record<string, unknown> | undefined;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.tenantProfile(input.tenantId),
          UpdateExpression:
            'SET tenantId = :id, reputationPolicy = :p, configurationSet = :cs, sesTenantName = :stn, sendingDomains = :d, ' +
            'gsi1pk = :tg, gsi1sk = :id, createdAt = if_not_exists(createdAt, :at), #st = if_not_exists(#st, :active), ' +
            'statusSince = if_not_exists(statusSince, :at)',
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: {
            ':id': input.tenantId,
            ':p': input.policy,
            ':cs': input.configurationSet,
            ':stn': input.sesTenantName,
            ':d': input.sendingDomains,
            ':tg': 'TENANTS',
            ':at': at,
            ':active': 'active',
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      old = out.Attributes;
    } catch (err) {
      throw new TenantStoreError(`could not register tenant ${input.tenantId}`, { cause: err });
    }
    const profile = profileOf({
      ...old,
      ...input,
      reputationPolicy: input.policy,
      createdAt: old?.createdAt ?? at,
      status: old?.status ?? 'active',
      statusSince: old?.statusSince ?? at,
    });
    return { profile, created: typeof old?.createdAt !== 'string' };
  }

  async getState(tenantId: string): Promise<TenantReputationState> {
    const [profile, rep] = await Promise.all([
      this.get(keys.tenantProfile(tenantId)),
      this.get(keys.reputation(tenantId)),
    ]);
    const p = profile.Item ?? {};
    const r = rep.Item ?? {};
    return {
      tenantId,
      status: asTenantStatus(p.status) ?? asTenantStatus(r.state) ?? 'active',
      statusSince: str(p.statusSince) ?? str(r.since),
      statusReason: str(p.statusReason),
      armedSince: typeof r.armedSince === 'number' ? r.armedSince : null,
      policy: str(p.reputationPolicy),
    };
  }

  async getView(tenantId: string): Promise<TenantView | null> {
    const [rep, profile] = await Promise.all([
      this.get(keys.reputation(tenantId)),
      this.get(keys.tenantProfile(tenantId)),
    ]);
    if (!rep.Item && !profile.Item) return null;
    return viewOf(tenantId, rep.Item, profile.Item);
  }

  async listViews(): Promise<TenantView[]> {
    const [profiles, reputations] = await Promise.all([this.byGsi('TENANTS'), this.byGsi('REPUTATION')]);
    const profileById = new Map(profiles.map((p) => [String(p.gsi1sk), p]));
    const repById = new Map(reputations.map((r) => [String(r.gsi1sk), r]));
    const ids = new Set([...profileById.keys(), ...repById.keys()]);
    return [...ids].map((id) => viewOf(id, repById.get(id), profileById.get(id)));
  }

  /** Writes a tenant's state and evidence as the reputation engine does, and its policy when named (seeding, tests). */
  async putView(view: TenantView): Promise<void> {
    if (view.policy) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.tenantProfile(view.tenantId),
          UpdateExpression: 'SET reputationPolicy = :p, gsi1pk = :tg, gsi1sk = :id',
          ExpressionAttributeValues: { ':p': view.policy, ':tg': 'TENANTS', ':id': view.tenantId },
        }),
      );
    }
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.reputation(view.tenantId),
          gsi1pk: 'REPUTATION',
          gsi1sk: view.tenantId,
          state: view.state,
          since: view.since,
          evidence: view.evidence,
          awsVerdict: view.awsVerdict,
        },
      }),
    );
  }

  async recordDecision(tenantId: string, decision: DecisionRecord, at: Date): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.reputation(tenantId),
          UpdateExpression:
            'SET #s = :s, since = if_not_exists(since, :at), evidence = :e, gsi1pk = :g, gsi1sk = :id, reasons = :r',
          // A paused or suspended tenant stays so until a human moves it.
          ConditionExpression: 'attribute_not_exists(#s) OR NOT #s IN (:p, :u)',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: {
            ':s': decision.state,
            ':at': at.toISOString(),
            ':e': decisionEvidence(decision, at),
            ':g': 'REPUTATION',
            ':id': tenantId,
            ':r': decision.reasons,
            ':p': 'paused',
            ':u': 'suspended',
          },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) return;
      throw new TenantStoreError(`could not record the decision of tenant ${tenantId}`, { cause: err });
    }
  }

  async markPaused(tenantId: string, reason: string, decision: DecisionRecord, at: Date): Promise<{ since: string }> {
    const iso = at.toISOString();
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            this.profileUpdate(tenantId, {
              to: 'paused',
              reason,
              at: iso,
              condition: 'attribute_not_exists(#st) OR NOT #st IN (:p, :u)',
            }),
            this.reputationUpdate(tenantId, {
              to: 'paused',
              at: iso,
              evidence: decisionEvidence(decision, at),
              reasons: decision.reasons,
            }),
          ],
        }),
      );
      return { since: iso };
    } catch (err) {
      if (!isConditionFailure(err)) {
        throw new TenantStoreError(`could not record the pause of tenant ${tenantId}`, { cause: err });
      }
      const state = await this.getState(tenantId);
      return { since: state.statusSince ?? iso };
    }
  }

  async applyChange(c: StateChange): Promise<void> {
    // The status read by the caller must still hold (a warned tenant's profile says `active`; a tenant without a
    // recorded status is active).
    const held = c.from === 'paused' || c.from === 'suspended';
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            this.profileUpdate(c.tenantId, {
              to: c.to,
              reason: c.reason,
              at: c.at,
              condition: held
                ? 'attribute_not_exists(#st) OR #st = :from'
                : 'attribute_not_exists(#st) OR NOT #st IN (:p, :u)',
              from: c.from,
            }),
            this.reputationUpdate(c.tenantId, {
              to: c.to,
              at: c.at,
              // The reputation item may lag the profile (a suspension recorded before this module wrote both): it
              // must only not be in the other held state.
              condition: held
                ? 'attribute_not_exists(#s) OR #s = :from OR NOT #s IN (:p, :u)'
                : 'attribute_not_exists(#s) OR NOT #s IN (:p, :u)',
              from: c.from,
              ...(c.evidence ? { evidence: c.evidence } : {}),
              ...(c.armedSince === undefined ? {} : { armedSince: c.armedSince, reasons: [] }),
            }),
            { Put: { TableName: this.tableName, Item: this.auditItem(c.audit) } },
          ],
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        throw new TransitionRefusedError(`tenant ${c.tenantId} changed meanwhile: reload and try again`, {
          cause: err,
        });
      }
      throw new TenantStoreError(`could not record the ${c.action} of tenant ${c.tenantId}`, { cause: err });
    }
  }

  private profileUpdate(
    tenantId: string,
    u: { to: string; reason: string | null; at: string; condition: string; from?: string },
  ) {
    return {
      Update: {
        TableName: this.tableName,
        Key: keys.tenantProfile(tenantId),
        UpdateExpression:
          'SET #st = :to, statusReason = :r, statusSince = :at, gsi1pk = if_not_exists(gsi1pk, :tg), gsi1sk = if_not_exists(gsi1sk, :id)',
        ConditionExpression: u.condition,
        ExpressionAttributeNames: { '#st': 'status' },
        ExpressionAttributeValues: {
          ':to': u.to,
          ':r': u.reason,
          ':at': u.at,
          ':tg': 'TENANTS',
          ':id': tenantId,
          ...conditionValues(u.condition, u.from),
        },
      },
    };
  }

  private reputationUpdate(
    tenantId: string,
    u: {
      to: string;
      at: string;
      condition?: string;
      from?: string;
      evidence?: Evidence;
      reasons?: string[];
      armedSince?: number;
    },
  ) {
    const sets = ['#s = :to', 'since = :at', 'gsi1pk = :g', 'gsi1sk = :id'];
    const values: Record<string, unknown> = { ':to': u.to, ':at': u.at, ':g': 'REPUTATION', ':id': tenantId };
    if (u.evidence) {
      sets.push('evidence = :e');
      values[':e'] = u.evidence;
    }
    if (u.reasons) {
      sets.push('reasons = :r');
      values[':r'] = u.reasons;
    }
    if (u.armedSince !== undefined) {
      sets.push('armedSince = :armed');
      values[':armed'] = u.armedSince;
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: keys.reputation(tenantId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ...(u.condition ? { ConditionExpression: u.condition } : {}),
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ...values, ...conditionValues(u.condition ?? '', u.from) },
      },
    };
  }

  private auditItem(a: TenantAuditEntry) {
    return { ...keys.audit(a.tenantId, a.at, a.id), gsi1pk: 'AUDIT', gsi1sk: a.at, ...a };
  }

  async putAudit(entry: TenantAuditEntry): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.auditItem(entry),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw new TenantStoreError(`could not write the audit of tenant ${entry.tenantId}`, { cause: err });
    }
  }

  async listAudit(tenantId: string): Promise<TenantAuditEntry[]> {
    const { pk, skPrefix } = keys.auditPrefix(tenantId);
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': pk, ':p': skPrefix },
      ConsistentRead: true,
    });
    return items.map((i) => auditOf(tenantId, i));
  }
}
