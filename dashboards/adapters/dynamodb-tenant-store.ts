import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { GSI1, keys } from '../../lib/table-design';
import { type AuditEntry, TENANT_STATES, type TenantState, type TenantStatus, type TenantStore } from '../api/ports';
import { ConflictError, DashboardError } from '../errors';

const PAUSED: readonly TenantState[] = ['paused', 'suspended'];

function asState(v: unknown): TenantState {
  return TENANT_STATES.includes(v as TenantState) ? (v as TenantState) : 'active';
}

function toStatus(tenantId: string, item: Record<string, unknown> | undefined): TenantStatus {
  return {
    tenantId,
    state: asState(item?.state),
    since: typeof item?.since === 'string' ? item.since : null,
    evidence: (item?.evidence as TenantStatus['evidence']) ?? null,
    awsVerdict: typeof item?.awsVerdict === 'string' ? item.awsVerdict : null,
  };
}

/**
 * Tenant state, evidence and audit in the single DynamoDB table (lib/table-design.ts): the reputation item
 * (`TENANT#<id>` / `REPUTATION`, listed through gsi1 `REPUTATION`), tenant profiles (gsi1 `TENANTS`) for tenants
 * without a decision yet, and audit items (`AUDIT#<time>#<uuid>`). A pause or resume writes the new state (on the
 * condition that the current state allows it) and its audit entry in one transaction: never one without the other.
 */
export class DynamoDbTenantStore implements TenantStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: start }),
      );
      out.push(...((page.Items ?? []) as Record<string, unknown>[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  private byGsi(pk: string) {
    return this.queryAll({
      IndexName: GSI1,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
    });
  }

  async listStatuses(): Promise<TenantStatus[]> {
    const [profiles, reputations] = await Promise.all([this.byGsi('TENANTS'), this.byGsi('REPUTATION')]);
    const out = new Map<string, TenantStatus>();
    for (const p of profiles) out.set(String(p.gsi1sk), toStatus(String(p.gsi1sk), undefined));
    for (const r of reputations) out.set(String(r.gsi1sk), toStatus(String(r.gsi1sk), r));
    return [...out.values()];
  }

  async getStatus(tenantId: string): Promise<TenantStatus | null> {
    const rep = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.reputation(tenantId) }));
    if (rep.Item) return toStatus(tenantId, rep.Item);
    const profile = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.tenantProfile(tenantId) }),
    );
    return profile.Item ? toStatus(tenantId, undefined) : null;
  }

  async listAudit(tenantId: string): Promise<AuditEntry[]> {
    const { pk, skPrefix } = keys.auditPrefix(tenantId);
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': pk, ':p': skPrefix },
      ScanIndexForward: false,
    });
    return items.map((i) => ({
      at: String(i.at),
      tenantId,
      action: i.action as AuditEntry['action'],
      actor: String(i.actor),
      reason: String(i.reason),
      fromState: asState(i.fromState),
      toState: asState(i.toState),
    }));
  }

  /** Writes a tenant's state and evidence as the reputation engine does (seeding, tests). */
  async putStatus(status: TenantStatus): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.reputation(status.tenantId),
          gsi1pk: 'REPUTATION',
          gsi1sk: status.tenantId,
          state: status.state,
          since: status.since,
          evidence: status.evidence,
          awsVerdict: status.awsVerdict,
        },
      }),
    );
  }

  async setPaused(tenantId: string, paused: boolean, actor: string, reason: string, at: Date): Promise<TenantStatus> {
    // A tenant without a recorded state is active (the router has checked that it exists).
    const current = (await this.getStatus(tenantId)) ?? toStatus(tenantId, undefined);
    const isPaused = PAUSED.includes(current.state);
    if (paused === isPaused)
      throw new ConflictError(paused ? 'the tenant is already paused' : 'the tenant is not paused');
    const iso = at.toISOString();
    const toState: TenantState = paused ? 'paused' : 'active';
    const entry: AuditEntry = {
      at: iso,
      tenantId,
      action: paused ? 'pause' : 'resume',
      actor,
      reason,
      fromState: current.state,
      toState,
    };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: keys.reputation(tenantId),
                UpdateExpression: 'SET #s = :to, since = :at, gsi1pk = :g, gsi1sk = :id',
                // The state read above must still hold: two officers acting at once cannot both win.
                ConditionExpression:
                  current.since === null && current.state === 'active'
                    ? 'attribute_not_exists(#s) OR #s = :from'
                    : '#s = :from',
                ExpressionAttributeNames: { '#s': 'state' },
                ExpressionAttributeValues: {
                  ':to': toState,
                  ':at': iso,
                  ':g': 'REPUTATION',
                  ':id': tenantId,
                  ':from': current.state,
                },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...keys.audit(tenantId, iso, randomUUID()), gsi1pk: 'AUDIT', gsi1sk: iso, ...entry },
              },
            },
          ],
        }),
      );
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        throw new ConflictError('the tenant state changed meanwhile: reload and try again', { cause: err });
      }
      throw new DashboardError('could not record the state change', { cause: err });
    }
    return { ...current, state: toState, since: iso };
  }
}
