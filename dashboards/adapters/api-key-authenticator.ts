import { apiKeyHash, hashApiKey } from '../../lib/http/api-key';
import type { Authenticator, Principal, Role } from '../api/ports';

/** What the key store knows about a key, found by the SHA-256 of the key (the key itself is never stored). */
export interface ApiKeyRecord {
  /** A non-secret id of the key (safe to log and to audit). */
  keyId: string;
  role: Role;
  tenantId: string | null;
}

/** Looks a key up by its hash: DynamoDB (`APIKEY#<sha256>`) in production, a map in tests and demos. */
export type ApiKeyLookup = (keyHash: string) => Promise<ApiKeyRecord | null>;

export { hashApiKey };

/** An in-memory key table built from plain keys (local runs and tests); only the hashes are kept. */
export function memoryApiKeyLookup(keys: Readonly<Record<string, ApiKeyRecord>>): ApiKeyLookup {
  const byHash = new Map(Object.entries(keys).map(([key, rec]) => [hashApiKey(key), rec]));
  return async (keyHash) => byHash.get(keyHash) ?? null;
}

/**
 * Local authentication: the `x-api-key` header, hashed and looked up. A client key without a tenant is refused
 * (it could otherwise be scoped to nothing, or to everything).
 */
export function createApiKeyAuthenticator(lookup: ApiKeyLookup): Authenticator {
  return {
    async authenticate(headers): Promise<Principal | null> {
      const hash = apiKeyHash(headers);
      if (!hash) return null;
      const rec = await lookup(hash);
      if (!rec) return null;
      if (rec.role === 'client' && !rec.tenantId) return null;
      return { id: rec.keyId, role: rec.role, tenantId: rec.role === 'client' ? rec.tenantId : null };
    },
  };
}
