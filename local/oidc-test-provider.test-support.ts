import { startOidcProvider } from './oidc-provider';

/**
 * Client-credentials access tokens for tests of the Email API's OAuth: the project's local OpenID Connect provider
 * (local/oidc-provider/, the `oidc-provider` package) with one confidential client per id, allowed the Email API's
 * scopes `send` and `read`, issuing JWT access tokens for the resource server `EMAIL_API_AUDIENCE`.
 */
export interface TestOidcProvider {
  issuer: string;
  jwksUri: string;
  /** The audience (resource identifier) the tokens are issued for. */
  audience: string;
  /** A client-credentials access token of `clientId` for `scope` (space-separated). */
  token(clientId: string, scope: string): Promise<string>;
  close(): Promise<void>;
}

export const EMAIL_API_AUDIENCE = 'urn:sesflow:email-api';
const SECRET = 'test-client-secret-0123456789abcdef';

/** Starts the provider on a free port with one service client per id. */
export async function startTestOidcProvider(clientIds: readonly string[]): Promise<TestOidcProvider> {
  const op = await startOidcProvider({
    serviceClients: clientIds.map((clientId) => ({ clientId, clientSecret: SECRET, scopes: ['send', 'read'] })),
    resourceServer: { identifier: EMAIL_API_AUDIENCE, scopes: ['send', 'read'] },
    ttl: { accessToken: 300 },
  });
  return {
    issuer: op.issuer,
    jwksUri: op.jwksUri,
    audience: EMAIL_API_AUDIENCE,
    async token(clientId, scope) {
      const res = await fetch(op.tokenUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
      });
      const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!body.access_token) throw new Error(`token request failed: ${body.error}: ${body.error_description}`);
      return body.access_token;
    },
    close: () => op.close(),
  };
}
