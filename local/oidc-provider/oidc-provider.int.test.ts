import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdTokenVerifier } from '../../dashboards/adapters/cognito-authenticator';
import { jwksFetcher } from '../../lib/jwks-fetcher';
import { type RunningOidcProvider, signInWithCode, startOidcProvider } from './index';

/**
 * The local OpenID Connect provider (oidc-provider) as Cognito's stand-in: a real code + PKCE sign-in over HTTP,
 * Cognito-shaped ID tokens verified by aws-jwt-verify from the issuer and JWKS URL alone, refresh, and the client
 * credentials grant with JWT access tokens.
 */
const WEB = 'dashboard-web';
const REDIRECT = 'http://127.0.0.1:9/callback';
const SERVICE = { clientId: 'mailer', clientSecret: 'a-long-enough-secret-1234', scopes: ['send'] };

let op: RunningOidcProvider;

beforeAll(async () => {
  op = await startOidcProvider({
    users: [
      { username: 'officer', password: 'Officer-pass-1', groups: ['compliance'], email: 'officer@example.test' },
      { username: 'acme-user', password: 'Acme-pass-1', groups: ['client'], tenant: 'acme' },
    ],
    webClients: [{ clientId: WEB, redirectUris: [REDIRECT] }],
    serviceClients: [SERVICE, { clientId: 'reader', clientSecret: 'another-long-secret-99', scopes: ['read'] }],
  });
});
afterAll(async () => op?.close());

const signIn = (username: string, password: string) =>
  signInWithCode(op, { clientId: WEB, redirectUri: REDIRECT, username, password });
const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));

async function clientCredentials(id: string, secret: string, scope: string) {
  return fetch(op.tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
}

describe('local OpenID Connect provider', () => {
  it('publishes discovery at Cognito-shaped endpoints', async () => {
    const doc = (await (await fetch(op.discoveryUrl)).json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(op.issuer);
    expect(doc.authorization_endpoint).toBe(`${op.url}/oauth2/authorize`);
    expect(doc.token_endpoint).toBe(`${op.url}/oauth2/token`);
    expect(doc.jwks_uri).toBe(`${op.url}/.well-known/jwks.json`);
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('signs a user in with code + PKCE and issues an ID token shaped like Cognito, verified by aws-jwt-verify', async () => {
    const tokens = await signIn('acme-user', 'Acme-pass-1');
    const verifier = createIdTokenVerifier({ issuer: op.issuer, jwksUri: op.jwksUri, audience: WEB });
    const claims = await verifier.verify(tokens.id_token);
    expect(claims).toMatchObject({
      iss: op.issuer,
      aud: WEB,
      token_use: 'id',
      'cognito:username': 'acme-user',
      'cognito:groups': ['client'],
      'custom:tenant': 'acme',
    });
    expect(tokens.refresh_token).toBeTruthy();
    // Another app client's verifier refuses it (audience).
    await expect(
      createIdTokenVerifier({ issuer: op.issuer, jwksUri: op.jwksUri, audience: 'other' }).verify(tokens.id_token),
    ).rejects.toThrow();
  });

  it('refreshes without a sign-in page: a new ID token for the same user', async () => {
    const first = await signIn('officer', 'Officer-pass-1');
    const res = await fetch(op.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: first.refresh_token ?? '',
        client_id: WEB,
      }).toString(),
    });
    expect(res.status).toBe(200);
    const next = (await res.json()) as { id_token: string };
    const verifier = createIdTokenVerifier({ issuer: op.issuer, jwksUri: op.jwksUri, audience: WEB });
    expect(await verifier.verify(next.id_token)).toMatchObject({ token_use: 'id' });
    expect(decode(next.id_token)).toMatchObject({ sub: decode(first.id_token).sub, 'cognito:groups': ['compliance'] });
  });

  it('refuses a wrong password and a code exchange without the PKCE verifier', async () => {
    await expect(signIn('officer', 'wrong')).rejects.toThrow(
      /sign-in stopped at \/interaction\/.+\/login \(status 200\)/,
    );
    const noPkce = await fetch(
      `${op.authorizeUrl}?${new URLSearchParams({ client_id: WEB, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid' })}`,
      { redirect: 'manual' },
    );
    const back = new URL(noPkce.headers.get('location') ?? '', op.url);
    expect(back.searchParams.get('error')).toBe('invalid_request');
  });

  it('issues client-credentials access tokens as JWTs with the granted scope, verifiable through the JWKS', async () => {
    const res = await clientCredentials(SERVICE.clientId, SERVICE.clientSecret, 'send');
    expect(res.status).toBe(200);
    const { access_token: token, token_type: type } = (await res.json()) as Record<string, string>;
    expect(type).toBe('Bearer');
    const verifier = JwtVerifier.create(
      { issuer: op.issuer, jwksUri: op.jwksUri, audience: op.resourceIdentifier, scope: 'send' },
      { jwksCache: new SimpleJwksCache({ fetcher: jwksFetcher() }) },
    );
    expect(await verifier.verify(token ?? '')).toMatchObject({
      client_id: 'mailer',
      token_use: 'access',
      scope: 'send',
      aud: op.resourceIdentifier,
    });
  });

  it('refuses a scope the client was not given, and a wrong secret', async () => {
    const over = await clientCredentials(SERVICE.clientId, SERVICE.clientSecret, 'read');
    expect(over.status).toBe(400);
    expect(((await over.json()) as { error: string }).error).toBe('invalid_scope');
    const bad = await clientCredentials(SERVICE.clientId, 'not-the-secret-at-all', 'send');
    expect(bad.status).toBe(401);
  });

  it('ends the session at the Cognito-shaped /logout and returns to the logout URI', async () => {
    const res = await fetch(`${op.logoutUrl}?client_id=${WEB}&logout_uri=${encodeURIComponent(REDIRECT)}`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location') ?? '');
    expect(to.pathname).toBe('/oauth2/session/end');
    expect(to.searchParams.get('post_logout_redirect_uri')).toBe(REDIRECT);
  });

  it('refuses to fetch a JWKS over plain HTTP from anywhere but a loopback address', async () => {
    await expect(jwksFetcher().fetch('http://example.com/.well-known/jwks.json')).rejects.toThrow(
      'a JWKS is fetched over https only (got http://example.com)',
    );
  });
});
