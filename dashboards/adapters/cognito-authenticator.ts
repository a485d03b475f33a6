import { JwtVerifier as AwsJwtVerifier } from 'aws-jwt-verify';
import { type Jwks, SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { jwksFetcher } from '../../lib/jwks-fetcher';
import { type Authenticator, type Principal, ROLES, type Role } from '../api/ports';
import { ForbiddenError } from '../errors';

/** The claims the dashboards read from a verified Cognito token. */
export type JwtClaims = Record<string, unknown>;

/** Verifies a JWT (signature, expiry, issuer, audience) and returns its claims; throws when it does not verify. */
export interface JwtVerifier {
  verify(token: string): Promise<JwtClaims>;
}

/**
 * Where ID tokens come from: a Cognito user pool in AWS (`https://cognito-idp.<region>.amazonaws.com/<pool id>` and
 * its `/.well-known/jwks.json`), the local OpenID Connect provider under `sesflow start --sso`. Nothing else is
 * Cognito-specific, so one verifier serves both.
 */
export interface IdTokenVerifierOptions {
  issuer: string;
  jwksUri: string;
  /** The app client id the tokens must be issued to (`aud`). */
  audience: string;
}

export interface CognitoAuthOptions {
  /** The claim holding the groups (default `cognito:groups`): one of compliance, client, service. */
  groupClaim?: string;
  /** The claim holding a client's tenant (default `custom:tenant`). */
  tenantClaim?: string;
}

/**
 * aws-jwt-verify's verifier for ID tokens from `issuer`: RS256 signature against the issuer's JWKS (fetched once
 * and cached by the library), expiry, issuer, audience, and `token_use: 'id'` as Cognito marks its ID tokens.
 * `jwks` preloads the cache (tests).
 */
export function createIdTokenVerifier(opts: IdTokenVerifierOptions, jwks?: Jwks): JwtVerifier {
  const verifier = AwsJwtVerifier.create(
    {
      issuer: opts.issuer,
      jwksUri: opts.jwksUri,
      audience: opts.audience,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'id') throw new Error('not an ID token');
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: jwksFetcher() }) },
  );
  if (jwks) verifier.cacheJwks(jwks);
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
 * and a client's tenant from the tenant claim (both set by an administrator only: the app client cannot write
 * them). A token that does not verify is a 401 (null). A verified token with no role, or a client token with no
 * tenant, is a 403: the person is known but has not been given access.
 */
export function createCognitoAuthenticator(verifier: JwtVerifier, opts: CognitoAuthOptions = {}): Authenticator {
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
      const sub = claims.sub;
      if (typeof sub !== 'string' || sub === '') return null;
      const role = roleFromGroups(claims[groupClaim]);
      if (!role || !ROLES.includes(role)) throw new ForbiddenError('this user has no role: ask an administrator');
      const tenant = claims[tenantClaim];
      if (role === 'client' && (typeof tenant !== 'string' || tenant === '')) {
        throw new ForbiddenError('this user has no tenant: ask an administrator');
      }
      return { id: `user:${sub}`, role, tenantId: role === 'client' ? (tenant as string) : null };
    },
  };
}
