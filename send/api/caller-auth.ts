import { apiKeyHash } from '../../lib/http/api-key';
import type { ApiRequest } from '../../lib/http/request';
import type { ApiKeyScope, TenantProfile } from '../ports';
import { ForbiddenError, UnauthenticatedError } from './errors';
import type { ApiKeyLookup } from './ports';

/** The claims of an OAuth 2.0 access token (client credentials) the Email API reads. */
export interface AccessTokenClaims {
  client_id?: string;
  /** Space-separated scopes: `send`, `read`, or a Cognito resource server's `<identifier>/send`. */
  scope?: string;
}

/** Checks an access token's signature (the issuer's JWKS), expiry, issuer and audience; throws when it fails. */
export type AccessTokenVerifier = (token: string) => Promise<AccessTokenClaims>;

/** What a tenant requires beside the key (from its profile). */
export type TenantAuthPolicy = Pick<TenantProfile, 'oauthClientIds' | 'mtlsSubjects'>;

export interface CallerAuthDeps {
  lookupKey: ApiKeyLookup;
  /** The tenant's OAuth and mutual-TLS requirements; absent: only the key is checked. */
  tenantAuth?: (tenantId: string) => Promise<TenantAuthPolicy | null>;
  verifyAccessToken?: AccessTokenVerifier;
}

/** The CN of a subject DN (`CN=acme-client,O=Acme`), or the whole subject when it names no CN. */
export function commonName(subject: string): string {
  for (const part of subject.split(/(?<!\\),/)) {
    const m = /^\s*CN=(.*)$/i.exec(part);
    if (m) return m[1]!.replace(/\\(.)/g, '$1').trim();
  }
  return subject.trim();
}

/** The scope a request needs: `read` to read a message or a batch, `send` for anything else. */
export function scopeFor(method: string): 'read' | 'send' {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD' ? 'read' : 'send';
}

function hasScope(scope: string | undefined, need: string): boolean {
  return (scope ?? '').split(/\s+/).some((s) => s === need || s.endsWith(`/${need}`));
}

/**
 * The Email API's caller: the `x-api-key` always (it names the tenant); then, when the tenant has turned them on, a
 * TLS client certificate of one of its subjects (mutual TLS) and an OAuth 2.0 access token of one of its clients,
 * with the `send` or `read` scope the request needs. A missing or wrong credential is a 401 (one line saying which);
 * a valid token without the scope a 403.
 */
export async function authenticateCaller(deps: CallerAuthDeps, req: ApiRequest): Promise<ApiKeyScope> {
  if (!req.headers['x-api-key']) throw new UnauthenticatedError('an x-api-key header is required');
  const hash = apiKeyHash(req.headers);
  const scope = hash ? await deps.lookupKey(hash) : null;
  if (!scope) throw new UnauthenticatedError('the x-api-key is not valid');
  const policy = deps.tenantAuth ? await deps.tenantAuth(scope.tenantId) : null;
  const subjects = policy?.mtlsSubjects ?? [];
  if (subjects.length > 0) {
    if (!req.clientCertSubject) {
      throw new UnauthenticatedError(`tenant ${scope.tenantId} requires a TLS client certificate (mutual TLS)`);
    }
    if (!subjects.includes(commonName(req.clientCertSubject))) {
      throw new UnauthenticatedError(`the TLS client certificate is not one of tenant ${scope.tenantId}'s`);
    }
  }
  const clients = policy?.oauthClientIds ?? [];
  if (clients.length > 0) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) {
      throw new UnauthenticatedError(
        `tenant ${scope.tenantId} requires an OAuth 2.0 access token (Authorization: Bearer)`,
      );
    }
    if (!deps.verifyAccessToken) throw new UnauthenticatedError('OAuth 2.0 access tokens are not configured');
    let claims: AccessTokenClaims;
    try {
      claims = await deps.verifyAccessToken(bearer);
    } catch {
      throw new UnauthenticatedError('the access token is not valid (signature, expiry, issuer or audience)');
    }
    if (!claims.client_id || !clients.includes(claims.client_id)) {
      throw new UnauthenticatedError(`the access token's client is not one of tenant ${scope.tenantId}'s`);
    }
    const need = scopeFor(req.method);
    if (!hasScope(claims.scope, need)) throw new ForbiddenError(`the access token lacks the ${need} scope`);
  }
  return scope;
}
