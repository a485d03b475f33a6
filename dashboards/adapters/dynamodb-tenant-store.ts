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

/**
 * A tenant's status: the profile's `status` is the one the send gate enforces (enrich/ and this store write both
 * in one transaction), so a paused or suspended profile is the state. A warning lives only on the reputation item
 * (the registry keeps the profile `active`, enrich/'s `recordDecision` writes the reputation item), so a warned
 * tenant whose profile is active is `warning`. The reputation item adds the evidence and, without a profile
 * status, the state.
 */
function toStatus(
  tenantId: string,
  rep: Record<string, unknown> | undefined,
  profile?: Record<string, unknown> | undefined,
): TenantStatus {
  const profileState = TENANT_STATES.includes(profile?.status as TenantState) ? (profile?.status as TenantState) : null;
  const repState = asState(rep?.state);
  const state =
    profileState === null || (profileState === 'active' && repState === 'warning') ? repState : profileState;
  return {
    tenantId,
    state,
    since:
      typeof rep?.since === 'string'
        ? rep.since
        : typeof profile?.statusSince === 'string'
          ? profile.statusSince
          : null,
    evidence: (rep?.evidence as TenantStatus['evidence']) ?? null,
    awsVerdict: typeof rep?.awsVerdict === 'string' ? rep.awsVerdict : null,
  };
}

/** SES's side of a pause (enrich/'s `SesV2TenantControl` fits): the tenant's sending off or on. */
export interface SesSendingControl {
  setSending(tenantName: string, enabled: boolean): Promise<void>;
}

/**
 * Tenant state, evidence and audit in the single DynamoDB table (lib/table-design.ts), in the item shapes enrich/'s
 * reputation store uses: the profile (`TENANT#<id>` / `PROFILE`: `status`, `statusReason`, `statusSince`, read by
 * the send gate), the reputation item (`REPUTATION`: `state`, `since`, `evidence`, `armedSince`, listed through
 * gsi1 `REPUTATION`) and audit items (`AUDIT#<time>#<id>`). A pause or resume writes profile, reputation item and
 * audit entry in one transaction, on the condition that the state still allows it; SES sending is switched off
 * after a pause is recorded and on before a resume is (the gate never lets a send reach a disabled SES tenant).
 * A resume re-arms the reputation window (`armedSince`) and clears the evidence, as enrich/'s resume does.
 */
export class DynamoDbTenantStore implements TenantStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly ses: SesSendingControl | null = null,
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
    const profileById = new Map(profiles.map((p) => [String(p.gsi1sk), p]));
    const repById = new Map(reputations.map((r) => [String(r.gsi1sk), r]));
    const ids = new Set([...profileById.keys(), ...repById.keys()]);
    return [...ids].map((id) => toStatus(id, repById.get(id), profileById.get(id)));
  }

  async getStatus(tenantId: string): Promise<TenantStatus | null> {
    const [rep, profile] = await Promise.all([
      this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: keys.reputation(tenantId), ConsistentRead: true }),
      ),
      this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: keys.tenantProfile(tenantId), ConsistentRead: true }),
      ),
    ]);
    if (!rep.Item && !profile.Item) return null;
    return toStatus(tenantId, rep.Item, profile.Item);
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
    const id = randomUUID();
    const entry: AuditEntry = {
      at: iso,
      tenantId,
      action: paused ? 'pause' : 'resume',
      actor,
      reason,
      fromState: current.state,
      toState,
    };
    if (!paused) await this.ses?.setSending(tenantId, true);
    const names = { '#st': 'status' };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: keys.tenantProfile(tenantId),
                UpdateExpression:
                  'SET #st = :to, statusReason = :r, statusSince = :at, gsi1pk = if_not_exists(gsi1pk, :tg), gsi1sk = if_not_exists(gsi1sk, :id)',
                // The state read above must still hold: two officers acting at once cannot both win.
                ConditionExpression: paused
                  ? 'attribute_not_exists(#st) OR NOT #st IN (:p, :u)'
                  : 'attribute_not_exists(#st) OR #st IN (:p, :u)',
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: {
                  ':to': toState,
                  ':r': reason,
                  ':at': iso,
                  ':tg': 'TENANTS',
                  ':id': tenantId,
                  ':p': 'paused',
                  ':u': 'suspended',
                },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: keys.reputation(tenantId),
                UpdateExpression: paused
                  ? 'SET #s = :to, since = :at, gsi1pk = :g, gsi1sk = :id'
                  : 'SET #s = :to, since = :at, armedSince = :armed, reasons = :none, gsi1pk = :g, gsi1sk = :id REMOVE evidence',
                ConditionExpression: paused
                  ? 'attribute_not_exists(#s) OR NOT #s IN (:p, :u)'
                  : 'attribute_not_exists(#s) OR #s IN (:p, :u)',
                ExpressionAttributeNames: { '#s': 'state' },
                ExpressionAttributeValues: {
                  ':to': toState,
                  ':at': iso,
                  ':g': 'REPUTATION',
                  ':id': tenantId,
                  ':p': 'paused',
                  ':u': 'suspended',
                  ...(paused ? {} : { ':armed': at.getTime(), ':none': [] }),
                },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...keys.audit(tenantId, iso, id), gsi1pk: 'AUDIT', gsi1sk: iso, id, ...entry },
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
    if (paused) await this.ses?.setSending(tenantId, false);
    return { ...current, state: toState, since: iso };
  }
}
