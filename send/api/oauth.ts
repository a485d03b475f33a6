import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { AccessTokenClaims, AccessTokenVerifier } from './caller-auth';

/** Where access tokens come from: a Cognito user pool (AWS), or any OpenID Connect issuer with a JWKS (locally). */
export type OAuthIssuerConfig =
  | { kind: 'cognito'; userPoolId: string }
  | { kind: 'issuer'; issuer: string; jwksUri: string; audience: string | null };

/**
 * The JWKS fetched with the runtime's fetch, so that a local issuer on plain http (the OpenID Connect provider
 * `sesflow start` and the tests run) works as Cognito's https one does.
 */
const fetcher: Fetcher = {
  async fetch(uri: string) {
    const res = await fetch(uri, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) throw new Error(`JWKS ${uri}: HTTP ${res.status}`);
    return res.arrayBuffer();
  },
};

/**
 * aws-jwt-verify over the issuer's JWKS (fetched once and cached; a token with an unknown key id fetches it again):
 * signature, expiry, issuer, and for a Cognito pool the `access` token use (client credentials give access tokens),
 * or the configured audience. Which clients and scopes a tenant accepts is the Email API's check (caller-auth.ts).
 */
export function createAccessTokenVerifier(config: OAuthIssuerConfig): AccessTokenVerifier {
  const jwksCache = new SimpleJwksCache({ fetcher });
  if (config.kind === 'cognito') {
    const v = CognitoJwtVerifier.create(
      { userPoolId: config.userPoolId, tokenUse: 'access', clientId: null },
      { jwksCache },
    );
    return async (token) => (await v.verify(token)) as unknown as AccessTokenClaims;
  }
  const v = JwtVerifier.create(
    { issuer: config.issuer, jwksUri: config.jwksUri, audience: config.audience },
    { jwksCache },
  );
  return async (token) => (await v.verify(token)) as unknown as AccessTokenClaims;
}

/**
 * The issuer from the environment: `SESFLOW_OAUTH_USER_POOL_ID` (Cognito), or `SESFLOW_OAUTH_ISSUER` with
 * `SESFLOW_OAUTH_JWKS_URI` (default `<issuer>/jwks`) and `SESFLOW_OAUTH_AUDIENCE`; null when none is set (a tenant
 * that requires OAuth is then refused: its tokens cannot be checked).
 */
export function readOAuthIssuerConfig(env: NodeJS.ProcessEnv = process.env): OAuthIssuerConfig | null {
  if (env.SESFLOW_OAUTH_USER_POOL_ID) return { kind: 'cognito', userPoolId: env.SESFLOW_OAUTH_USER_POOL_ID };
  if (!env.SESFLOW_OAUTH_ISSUER) return null;
  return {
    kind: 'issuer',
    issuer: env.SESFLOW_OAUTH_ISSUER,
    jwksUri: env.SESFLOW_OAUTH_JWKS_URI || `${env.SESFLOW_OAUTH_ISSUER.replace(/\/$/, '')}/jwks`,
    audience: env.SESFLOW_OAUTH_AUDIENCE || null,
  };
}
