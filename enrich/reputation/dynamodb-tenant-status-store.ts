import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lib/table-design';
import type { ReputationDecision } from './engine';
import { ReputationError, ResumeRefusedError } from './errors';
import type { AuditRecord, TenantReputationState, TenantStatus, TenantStatusStore } from './ports';

const STATUSES: readonly TenantStatus[] = ['active', 'warning', 'paused', 'suspended'];
const asStatus = (v: unknown): TenantStatus | null =>
  STATUSES.includes(v as TenantStatus) ? (v as TenantStatus) : null;
const isConditionFailure = (err: unknown) =>
  (err instanceof TransactionCanceledException &&
    (err.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed')) ||
  (err instanceof Error && err.name === 'ConditionalCheckFailedException');

/** The evidence as the dashboards read it (dashboards/api/ports.ts `Evidence`), with when it was decided. */
const evidenceItem = (d: ReputationDecision, at: Date) => ({
  ...d.evidence,
  decidedAt: at.toISOString(),
  summary: d.reasons.join('; '),
});

/**
 * Tenant status in the single table. The send gate reads the **profile** (`TENANT#<id>` / `PROFILE`: `status`,
 * `statusReason`, `statusSince`); the dashboards read the **reputation item** (`TENANT#<id>` / `REPUTATION`:
 * `state`, `since`, `evidence`, listed through gsi1 `REPUTATION`), which also holds `armedSince` (the last resume).
 * A pause writes both in one transaction, so the gate refuses the moment the decision is recorded.
 */
export class DynamoDbTenantStatusStore implements TenantStatusStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getState(tenantId: string): Promise<TenantReputationState> {
    const [profile, rep] = await Promise.all([
      this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: keys.tenantProfile(tenantId), ConsistentRead: true }),
      ),
      this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: keys.reputation(tenantId), ConsistentRead: true }),
      ),
    ]);
    const p = profile.Item ?? {};
    const r = rep.Item ?? {};
    return {
      tenantId,
      status: asStatus(p.status) ?? asStatus(r.state) ?? 'active',
      statusSince: typeof p.statusSince === 'string' ? p.statusSince : typeof r.since === 'string' ? r.since : null,
      statusReason: typeof p.statusReason === 'string' ? p.statusReason : null,
      armedSince: typeof r.armedSince === 'number' ? r.armedSince : null,
      policy: typeof p.reputationPolicy === 'string' ? p.reputationPolicy : null,
    };
  }

  async recordDecision(tenantId: string, decision: ReputationDecision, at: Date): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.reputation(tenantId),
          UpdateExpression:
            'SET #s = :s, since = if_not_exists(since, :at), evidence = :e, gsi1pk = :g, gsi1sk = :id, reasons = :r',
          // A paused or suspended tenant stays so until a human resumes it.
          ConditionExpression: 'attribute_not_exists(#s) OR NOT #s IN (:p, :u)',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: {
            ':s': decision.state,
            ':at': at.toISOString(),
            ':e': evidenceItem(decision, at),
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
      throw new ReputationError(`could not record the decision of tenant ${tenantId}`, { cause: err });
    }
  }

  async markPaused(
    tenantId: string,
    reason: string,
    decision: ReputationDecision,
    at: Date,
  ): Promise<{ since: string }> {
    const iso = at.toISOString();
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: keys.tenantProfile(tenantId),
                UpdateExpression:
                  'SET #st = :p, statusReason = :r, statusSince = :at, gsi1pk = if_not_exists(gsi1pk, :tg), gsi1sk = if_not_exists(gsi1sk, :id)',
                ConditionExpression: 'attribute_not_exists(#st) OR NOT #st IN (:p, :u)',
                ExpressionAttributeNames: { '#st': 'status' },
                ExpressionAttributeValues: {
                  ':p': 'paused',
                  ':u': 'suspended',
                  ':r': reason,
                  ':at': iso,
                  ':tg': 'TENANTS',
                  ':id': tenantId,
                },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: keys.reputation(tenantId),
                UpdateExpression: 'SET #s = :p, since = :at, evidence = :e, reasons = :r, gsi1pk = :g, gsi1sk = :id',
                ExpressionAttributeNames: { '#s': 'state' },
                ExpressionAttributeValues: {
                  ':p': 'paused',
                  ':at': iso,
                  ':e': evidenceItem(decision, at),
                  ':r': decision.reasons,
                  ':g': 'REPUTATION',
                  ':id': tenantId,
                },
              },
            },
          ],
        }),
      );
      return { since: iso };
    } catch (err) {
      if (!isConditionFailure(err)) {
        throw new ReputationError(`could not record the pause of tenant ${tenantId}`, { cause: err });
      }
      const state = await this.getState(tenantId);
      return { since: state.statusSince ?? iso };
    }
  }

  async markResumed(tenantId: string, audit: AuditRecord): Promise<void> {
    const armed = Date.parse(audit.at);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: keys.tenantProfile(tenantId),
                UpdateExpression: 'SET #st = :a, statusReason = :r, statusSince = :at',
                ConditionExpression: '#st IN (:p, :u)',
                ExpressionAttributeNames: { '#st': 'status' },
                ExpressionAttributeValues: {
                  ':a': 'active',
                  ':p': 'paused',
                  ':u': 'suspended',
                  ':r': audit.reason,
                  ':at': audit.at,
                },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: keys.reputation(tenantId),
                UpdateExpression:
                  'SET #s = :a, since = :at, armedSince = :armed, reasons = :none, gsi1pk = :g, gsi1sk = :id REMOVE evidence',
                ExpressionAttributeNames: { '#s': 'state' },
                ExpressionAttributeValues: {
                  ':a': 'active',
                  ':at': audit.at,
                  ':armed': armed,
                  ':none': [],
                  ':g': 'REPUTATION',
                  ':id': tenantId,
                },
              },
            },
            { Put: { TableName: this.tableName, Item: this.auditItem(audit) } },
          ],
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new ResumeRefusedError(`tenant ${tenantId} is not paused`, { cause: err });
      throw new ReputationError(`could not record the resume of tenant ${tenantId}`, { cause: err });
    }
  }

  private auditItem(a: AuditRecord) {
    return { ...keys.audit(a.tenantId, a.at, a.id), gsi1pk: 'AUDIT', gsi1sk: a.at, ...a };
  }

  async putAudit(audit: AuditRecord): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.auditItem(audit),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw new ReputationError(`could not write the audit of tenant ${audit.tenantId}`, { cause: err });
    }
  }

  async listAudit(tenantId: string): Promise<AuditRecord[]> {
    const { pk, skPrefix } = keys.auditPrefix(tenantId);
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': pk, ':p': skPrefix },
        ConsistentRead: true,
      }),
    );
    return (page.Items ?? []).map((i) => ({
      tenantId,
      at: String(i.at),
      id: String(i.id),
      action: i.action as AuditRecord['action'],
      actor: String(i.actor),
      reason: String(i.reason),
      fromState: asStatus(i.fromState) ?? 'active',
      toState: asStatus(i.toState) ?? 'active',
      ...(i.evidence ? { evidence: i.evidence as AuditRecord['evidence'] } : {}),
    }));
  }
}
