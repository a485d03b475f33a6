import { randomBytes, randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { queryAll } from '../lib/dynamodb-query';
import { hashApiKey } from '../lib/http/api-key';
import { GSI1, keys } from '../lib/table-design';
import { DynamoDbTenantRepository } from '../tenants/dynamodb-tenant-repository';
import { TenantError } from '../tenants/errors';
import { setSuspension } from '../tenants/lifecycle';
import type { SesSendingControl } from '../tenants/ports';
import type { TenantAuditEntry } from '../tenants/status';
import { InvalidTenantError, RegistryError, UnknownKeyError, UnknownTenantError } from './errors';
import type { ApiKeyScope, TenantProfile, TenantStatus } from './ports';

/** SES tenant names: 1 to 64 letters, digits, `-` or `_` (aws-facts §2.1); sesflow tenant ids follow the same rule. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A DNS domain name: labels of letters, digits and `-`, at least one dot. */
const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** Configuration set names: letters, digits, `_` and `-`, up to 64 characters. */
const CONFIGURATION_SET_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** What registering a tenant takes (the SES side is onboarding's: send/onboarding.ts). */
export interface RegisterTenantInput {
  tenantId: string;
  /** Reputation policy name (enrich/reputation/policy.ts): `standard` unless said. */
  policy?: string;
  configurationSet: string;
  sesTenantName: string;
  sendingDomains: readonly string[];
}

/** An API key as listed: never the key, never its hash. */
export interface ApiKeyInfo {
  keyId: string;
  tenantId: string;
  createdAt: string;
  revokedAt: string | null;
  label: string | null;
}

/** A freshly issued key: `key` is the only time the clear key exists outside the caller's hands. */
export interface IssuedApiKey extends ApiKeyInfo {
  key: string;
}

/** What the registry's own audit entries say (the status is unchanged by them). */
interface AuditInput {
  tenantId: string;
  action: string;
  actor: string;
  reason: string;
  status: TenantStatus;
  keyId?: string;
}

/** One audit entry (onboarding, key issue / revoke, and the lifecycle's moves): tenants/status.ts. */
export type RegistryAuditEntry = TenantAuditEntry;

export function validateTenantId(tenantId: string): void {
  if (!TENANT_ID_PATTERN.test(tenantId)) {
    throw new InvalidTenantError(
      `tenant id "${tenantId.slice(0, 70)}" is not valid: 1 to 64 letters, digits, _ or - (the SES tenant name rule)`,
    );
  }
}

/** Lower-cases and checks sending domains; throws InvalidTenantError naming the first bad one. */
export function normaliseDomains(domains: readonly string[]): string[] {
  const out = [...new Set(domains.map((d) => d.trim().toLowerCase().replace(/\.$/, '')))];
  if (out.length === 0) throw new InvalidTenantError('a tenant needs at least one sending domain');
  for (const d of out) {
    if (!DOMAIN_PATTERN.test(d))
      throw new InvalidTenantError(`sending domain "${d.slice(0, 80)}" is not a domain name`);
  }
  return out.sort();
}

function keyInfoOf(item: Record<string, unknown>): ApiKeyInfo {
  return {
    keyId: String(item.keyId),
    tenantId: String(item.tenantId),
    createdAt: String(item.createdAt),
    revokedAt: typeof item.revokedAt === 'string' ? item.revokedAt : null,
    label: typeof item.label === 'string' ? item.label : null,
  };
}

/** A registry write that carries an audit entry: a Put or an Update of the single table (the table name is added). */
type AuditedChange =
  | { Put: { Item: Record<string, unknown>; ConditionExpression?: string } }
  | {
      Update: {
        Key: Record<string, unknown>;
        UpdateExpression: string;
        ConditionExpression?: string;
        ExpressionAttributeValues?: Record<string, unknown>;
      };
    };

/**
 * The tenant registry: onboarding (the profile, through the tenant repository: tenants/dynamodb-tenant-repository.ts,
 * the one writer of the tenant item), suspensions (tenants/lifecycle.ts), and the tenant's API keys in the single
 * table (lib/table-design.ts): `APIKEY#<sha256>` / `APIKEY` (gsi1 `KEYS#<tenant>` / `<created>#<keyId>`), the SHA-256
 * of the key only (lib/http/api-key.ts), `keyId`, `tenantId`, `role: client`, `revokedAt`.
 */
export class TenantRegistry {
  private readonly tenants: DynamoDbTenantRepository;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.tenants = new DynamoDbTenantRepository(doc, tableName);
  }

  /**
   * Creates the tenant's profile, or updates its policy, configuration set, SES tenant name and domains; idempotent.
   * A status already there (a pause recorded before the profile was complete) is kept; a new profile is `active`.
   * Returns the profile and whether it was created now (then an `onboard` audit entry is written).
   */
  async registerTenant(
    input: RegisterTenantInput,
    actor = 'sesflow',
  ): Promise<{ profile: TenantProfile; created: boolean }> {
    validateTenantId(input.tenantId);
    if (!CONFIGURATION_SET_PATTERN.test(input.configurationSet)) {
      throw new InvalidTenantError(`configuration set name "${input.configurationSet.slice(0, 70)}" is not valid`);
    }
    validateTenantId(input.sesTenantName);
    const domains = normaliseDomains(input.sendingDomains);
    const at = this.now().toISOString();
    let registered: { profile: TenantProfile; created: boolean };
    try {
      registered = await this.tenants.registerProfile(
        {
          tenantId: input.tenantId,
          policy: input.policy ?? 'standard',
          configurationSet: input.configurationSet,
          sesTenantName: input.sesTenantName,
          sendingDomains: domains,
        },
        at,
      );
    } catch (err) {
      throw new RegistryError(`could not register tenant ${input.tenantId}`, { cause: err });
    }
    const { profile, created } = registered;
    if (created) {
      await this.audit({
        tenantId: input.tenantId,
        action: 'onboard',
        actor,
        reason: `registered with policy ${profile.policy}, domains ${domains.join(', ')}`,
        status: profile.status,
      });
    }
    return { profile, created };
  }

  getTenant(tenantId: string): Promise<TenantProfile | null> {
    return this.tenants.getProfile(tenantId);
  }

  /** Every registered tenant, by id. */
  listTenants(): Promise<TenantProfile[]> {
    return this.tenants.listProfiles();
  }

  /**
   * Suspends a tenant by hand (status `suspended`: the send gate refuses it, and the reputation path never changes
   * it), or lifts a suspension (`active`), with the reason and an audit entry in one transaction. Refused when the
   * tenant is not registered, or already in the asked state.
   */
  async setSuspended(
    tenantId: string,
    suspended: boolean,
    opts: { reason: string; actor?: string; ses?: SesSendingControl | null },
  ): Promise<TenantProfile> {
    if (!opts.reason.trim()) throw new InvalidTenantError('a suspension or its end needs a reason');
    const current = await this.requireTenant(tenantId);
    try {
      return await setSuspension({ repo: this.tenants, ses: opts.ses ?? null }, current, suspended, {
        actor: opts.actor ?? 'sesflow',
        reason: opts.reason,
        at: this.now(),
      });
    } catch (err) {
      if (err instanceof TenantError) throw new InvalidTenantError(err.message, { cause: err });
      throw err;
    }
  }

  /**
   * What the tenant's Email API calls must carry beside the x-api-key: access tokens of these OAuth clients, TLS
   * client certificates of these subjects (CN). Empty lists turn the requirement off. Audited.
   */
  async setAuthentication(
    tenantId: string,
    auth: { oauthClientIds: readonly string[]; mtlsSubjects: readonly string[] },
    opts: { actor?: string } = {},
  ): Promise<TenantProfile> {
    const current = await this.requireTenant(tenantId);
    const clean = (list: readonly string[], what: string) => {
      const out = [...new Set(list.map((x) => x.trim()).filter((x) => x !== ''))].sort();
      for (const x of out) {
        if (x.length > 256 || !/^[\x20-\x7e]+$/.test(x))
          throw new InvalidTenantError(`${what} "${x.slice(0, 40)}" is not valid`);
      }
      return out;
    };
    const oauthClientIds = clean(auth.oauthClientIds, 'OAuth client id');
    const mtlsSubjects = clean(auth.mtlsSubjects, 'certificate subject');
    await this.writeAudited(
      {
        Update: {
          Key: keys.tenantProfile(tenantId),
          UpdateExpression: 'SET oauthClientIds = :o, mtlsSubjects = :m',
          ExpressionAttributeValues: { ':o': oauthClientIds, ':m': mtlsSubjects },
        },
      },
      {
        tenantId,
        action: 'set-authentication',
        actor: opts.actor ?? 'sesflow',
        reason: `oauth ${oauthClientIds.length ? 'required' : 'off'}, mutual TLS ${mtlsSubjects.length ? 'required' : 'off'}`,
        status: current.status,
      },
    );
    return { ...current, oauthClientIds, mtlsSubjects };
  }

  private async requireTenant(tenantId: string): Promise<TenantProfile> {
    const t = await this.getTenant(tenantId);
    if (!t?.configurationSet) throw new UnknownTenantError(tenantId);
    return t;
  }

  /**
   * Issues an API key scoped to the tenant. The clear key is returned once; the table keeps only its SHA-256.
   * The key item and its audit entry are written in one transaction.
   */
  async issueKey(tenantId: string, opts: { actor?: string; label?: string } = {}): Promise<IssuedApiKey> {
    const tenant = await this.requireTenant(tenantId);
    // 32 random bytes: the key is unguessable, so its unsalted SHA-256 is a safe lookup key.
    const key = `sfk_${randomBytes(32).toString('base64url')}`;
    const keyId = `key_${randomBytes(6).toString('hex')}`;
    const createdAt = this.now().toISOString();
    const info: ApiKeyInfo = { keyId, tenantId, createdAt, revokedAt: null, label: opts.label ?? null };
    try {
      await this.writeAudited(
        {
          Put: {
            Item: {
              ...keys.apiKey(hashApiKey(key)),
              gsi1pk: `KEYS#${tenantId}`,
              gsi1sk: `${createdAt}#${keyId}`,
              keyId,
              tenantId,
              role: 'client',
              createdAt,
              ...(opts.label ? { label: opts.label } : {}),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          tenantId,
          action: 'key-issue',
          actor: opts.actor ?? 'sesflow',
          reason: `API key ${keyId} issued${opts.label ? ` (${opts.label})` : ''}`,
          status: tenant.status,
          keyId,
        },
      );
    } catch (err) {
      throw new RegistryError(`could not issue a key for tenant ${tenantId}`, { cause: err });
    }
    return { ...info, key };
  }

  private async keyItems(tenantId: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: GSI1,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': `KEYS#${tenantId}` },
    });
  }

  /** The tenant's keys (active and revoked), oldest first. */
  async listKeys(tenantId: string): Promise<ApiKeyInfo[]> {
    return (await this.keyItems(tenantId)).map(keyInfoOf);
  }

  /** Revokes a key: lookups stop finding it at once (the item stays, with `revokedAt`, for the record). */
  async revokeKey(tenantId: string, keyId: string, opts: { actor?: string; reason?: string } = {}): Promise<void> {
    const item = (await this.keyItems(tenantId)).find((i) => i.keyId === keyId);
    if (!item) throw new UnknownKeyError(`tenant ${tenantId} has no key ${keyId}`);
    if (typeof item.revokedAt === 'string') throw new UnknownKeyError(`key ${keyId} was revoked at ${item.revokedAt}`);
    const tenant = await this.getTenant(tenantId);
    const at = this.now().toISOString();
    try {
      await this.writeAudited(
        {
          Update: {
            Key: { pk: String(item.pk), sk: String(item.sk) },
            UpdateExpression: 'SET revokedAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
            ExpressionAttributeValues: { ':at': at },
          },
        },
        {
          tenantId,
          action: 'key-revoke',
          actor: opts.actor ?? 'sesflow',
          reason: opts.reason ?? `API key ${keyId} revoked`,
          status: tenant?.status ?? 'active',
          keyId,
        },
      );
    } catch (err) {
      throw new RegistryError(`could not revoke key ${keyId} of tenant ${tenantId}`, { cause: err });
    }
  }

  /** Issues a new key and revokes the old one (in that order: the tenant is never without a working key). */
  async rotateKey(tenantId: string, keyId: string, opts: { actor?: string } = {}): Promise<IssuedApiKey> {
    const keys = await this.listKeys(tenantId);
    const old = keys.find((k) => k.keyId === keyId && !k.revokedAt);
    if (!old) throw new UnknownKeyError(`tenant ${tenantId} has no active key ${keyId}`);
    const fresh = await this.issueKey(tenantId, { actor: opts.actor, label: old.label ?? undefined });
    await this.revokeKey(tenantId, keyId, { actor: opts.actor, reason: `API key ${keyId} rotated to ${fresh.keyId}` });
    return fresh;
  }

  /** The tenant scope of a key, by the key's SHA-256; null for an unknown or revoked key. */
  async lookupKey(keyHash: string): Promise<ApiKeyScope | null> {
    if (!/^[0-9a-f]{64}$/.test(keyHash)) return null;
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.apiKey(keyHash), ConsistentRead: true }),
    );
    const i = out.Item;
    if (!i || typeof i.revokedAt === 'string' || typeof i.tenantId !== 'string') return null;
    return { tenantId: i.tenantId, keyId: String(i.keyId) };
  }

  /** One change to the table and the audit entry that records it, in one transaction: both are written or neither. */
  private async writeAudited(change: AuditedChange, audit: AuditInput): Promise<void> {
    const TableName = this.tableName;
    const write = 'Put' in change ? { Put: { TableName, ...change.Put } } : { Update: { TableName, ...change.Update } };
    await this.doc.send(
      new TransactWriteCommand({ TransactItems: [write, { Put: { TableName, Item: this.auditItem(audit) } }] }),
    );
  }

  private auditItem(e: AuditInput): Record<string, unknown> {
    const entry = this.auditEntry(e);
    return { ...keys.audit(e.tenantId, entry.at, entry.id), gsi1pk: 'AUDIT', gsi1sk: entry.at, ...entry };
  }

  private auditEntry(e: AuditInput): TenantAuditEntry {
    return {
      tenantId: e.tenantId,
      at: this.now().toISOString(),
      id: randomUUID(),
      action: e.action,
      actor: e.actor,
      reason: e.reason,
      fromState: e.status,
      toState: e.status,
      ...(e.keyId ? { keyId: e.keyId } : {}),
    };
  }

  /** Writes one audit entry. */
  async audit(e: AuditInput): Promise<void> {
    try {
      await this.tenants.putAudit(this.auditEntry(e));
    } catch (err) {
      throw new RegistryError(`could not write the audit of tenant ${e.tenantId}`, { cause: err });
    }
  }

  /** The tenant's audit entries, oldest first (registry, reputation and dashboard entries alike). */
  listAudit(tenantId: string): Promise<TenantAuditEntry[]> {
    return this.tenants.listAudit(tenantId);
  }
}
