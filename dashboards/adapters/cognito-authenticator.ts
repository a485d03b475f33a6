import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { type Authenticator, type Principal, ROLES, type Role } from '../api/ports';

/** The claims the dashboards read from a verified Cognito token. */
export type JwtClaims = Record<string, unknown>;

/** Verifies a JWT (signature, expiry, issuer, audience) and returns its claims; throws when it does not verify. */
export interface JwtVerifier {
  verify(token: string): Promise<JwtClaims>;
}

export interface CognitoAuthOptions {
  userPoolId: string;
  clientId: string;
  /** The claim holding the groups (default `cognito:groups`): one of compliance, client, service. */
  groupClaim?: string;
  /** The claim holding a client's tenant (default `custom:tenant`). */
  tenantClaim?: string;
}

/** aws-jwt-verify's verifier for a user pool's ID tokens (JWKS fetched and cached by the library). */
export function createCognitoVerifier(opts: CognitoAuthOptions): JwtVerifier {
  const verifier = CognitoJwtVerifier.create({ userPoolId: opts.userPoolId, tokenUse: 'id', clientId: opts.clientId });
  return { verify: async (token) => (await verifier.verify(token)) as unknown as JwtClaims };
}

/** The strongest role among the groups: compliance, then service, then client. */
export function roleFromGroups(groups: unknown): Role | null {
  const list = Array.isArray(groups) ? groups : typeof groups === 'string' ? groups.split(/[\s,]+/) : [];
  for (const role of ['compliance', 'service', 'client'] as const) if (list.includes(role)) return role;
  return null;
}

/**
 * AWS authentication: `Authorization: Bearer <Cognito ID token>`, verified; the role comes from the group claim
 * and a client's tenant from the tenant claim. A token that does not verify is a 401, never an error page.
 */
export function createCognitoAuthenticator(verifier: JwtVerifier, opts: CognitoAuthOptions): Authenticator {
  const groupClaim = opts.groupClaim ?? 'cognito:groups';
  const tenantClaim = opts.tenantClaim ?? 'custom:tenant';
  return {
    async authenticate(headers): Promise<Principal | null> {
      const m = /^Bearer\s+([A-Za-z0-9\-_.]+)$/.exec(headers.authorization ?? '');
      if (!m?.[1]) return null;
      let claims: JwtClaims;
      try {
        claims = await verifier.verify(m[1]);
      } catch {
        return null;
      }
      const role = roleFromGroups(claims[groupClaim]);
      const sub = claims.sub;
      if (!role || !ROLES.includes(role) || typeof sub !== 'string') return null;
      const tenant = claims[tenantClaim];
      if (role === 'client' && (typeof tenant !== 'string' || tenant === '')) return null;
      return { id: `user:${sub}`, role, tenantId: role === 'client' ? (tenant as string) : null };
    },
  };
}
