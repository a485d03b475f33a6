import { generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { LocalConfigError } from '../errors';
import { expiredPage, loginPage, logoutPage, readForm, signedOutPage } from './pages';

/**
 * A user of the local provider, shaped like a Cognito user-pool user: its ID tokens carry `token_use: 'id'`,
 * `cognito:username`, `cognito:groups` and `custom:tenant`, as Cognito's do.
 */
export interface OidcUser {
  username: string;
  password: string;
  /** Stable subject (default: a UUID made at start). */
  sub?: string;
  email?: string;
  /** Becomes `cognito:groups` (omitted when empty, as Cognito does). */
  groups?: readonly string[];
  /** Becomes `custom:tenant`. */
  tenant?: string;
}

/** A browser app: public client, authorization code with PKCE (S256), refresh tokens, like a Cognito app client. */
export interface OidcWebClient {
  clientId: string;
  redirectUris: readonly string[];
  /** Where `/logout?logout_uri=` may send the browser back (default: the redirect URIs). */
  logoutUris?: readonly string[];
}

/** A machine client: confidential, `client_credentials` only, limited to `scopes` of the resource server. */
export interface OidcServiceClient {
  clientId: string;
  clientSecret: string;
  scopes: readonly string[];
}

export interface OidcProviderOptions {
  /** 0 (default) = a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  users?: readonly OidcUser[];
  webClients?: readonly OidcWebClient[];
  serviceClients?: readonly OidcServiceClient[];
  /**
   * The API that client-credentials access tokens are for: its identifier becomes their `aud`, and a service client
   * may ask for any of `scopes`. Default identifier `<issuer>/api`, default scopes: the service clients' own.
   */
  resourceServer?: { identifier?: string; scopes?: readonly string[] };
  /** Lifetimes in seconds (defaults as Cognito's: ID and access tokens 3600, refresh tokens 30 days). */
  ttl?: { idToken?: number; accessToken?: number; refreshToken?: number };
}

/** The endpoints, at Cognito's managed-login paths (`/oauth2/authorize`, `/oauth2/token`, `/logout`). */
export interface RunningOidcProvider {
  /** Base URL, which is also the issuer (`iss`) of every token. */
  url: string;
  issuer: string;
  jwksUri: string;
  authorizeUrl: string;
  tokenUrl: string;
  userInfoUrl: string;
  /** Cognito-shaped: `/logout?client_id=...&logout_uri=...` ends the session and returns to `logout_uri`. */
  logoutUrl: string;
  discoveryUrl: string;
  /** The resource server identifier (the `aud` of client-credentials access tokens). */
  resourceIdentifier: string;
  /** Adds or replaces a user (by username) while running. */
  putUser(user: OidcUser): void;
  close(): Promise<void>;
}

const ROUTES = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  userinfo: '/oauth2/userInfo',
  jwks: '/.well-known/jwks.json',
  revocation: '/oauth2/revoke',
  end_session: '/oauth2/session/end',
} as const;

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The claims of a user's ID token besides the ones the provider sets (iss, aud, exp, iat, auth_time, nonce). */
function userClaims(u: OidcUser & { sub: string }): { sub: string; [claim: string]: unknown } {
  return {
    sub: u.sub,
    token_use: 'id',
    'cognito:username': u.username,
    ...(u.groups?.length ? { 'cognito:groups': [...u.groups] } : {}),
    ...(u.tenant ? { 'custom:tenant': u.tenant } : {}),
    ...(u.email ? { email: u.email, email_verified: true } : {}),
  };
}

function checkOptions(o: OidcProviderOptions): void {
  const names = new Set<string>();
  for (const u of o.users ?? []) {
    if (!u.username || !u.password) throw new LocalConfigError('every OIDC user needs a username and a password');
    if (names.has(u.username)) throw new LocalConfigError(`OIDC user "${u.username}" is listed twice`);
    names.add(u.username);
  }
  for (const c of o.webClients ?? []) {
    if (!c.redirectUris.length) throw new LocalConfigError(`OIDC client "${c.clientId}" needs a redirect URI`);
  }
  for (const c of o.serviceClients ?? []) {
    if (c.clientSecret.length < 16) {
      throw new LocalConfigError(`OIDC client "${c.clientId}" needs a secret of 16 characters or more`);
    }
  }
}

/**
 * Starts a standards-compliant OpenID Connect provider (the certified `oidc-provider` package) as the local stand-in
 * for a Cognito user pool and its managed login: the same authorize, token, JWKS and logout endpoints, ID tokens
 * shaped like Cognito's (RS256), and OAuth 2.0 client credentials issuing JWT access tokens
 * (`token_use: 'access'`, `client_id`, `scope`). Sign-in is a plain username and password form; first-party
 * clients are never asked for consent (as with Cognito).
 */
export async function startOidcProvider(opts: OidcProviderOptions = {}): Promise<RunningOidcProvider> {
  checkOptions(opts);
  const host = opts.host ?? '127.0.0.1';
  const users = new Map<string, OidcUser & { sub: string }>();
  const bySub = new Map<string, OidcUser & { sub: string }>();
  const putUser = (u: OidcUser) => {
    const old = users.get(u.username);
    const withSub = { ...u, sub: u.sub ?? old?.sub ?? randomUUID() };
    if (old) bySub.delete(old.sub);
    users.set(u.username, withSub);
    bySub.set(withSub.sub, withSub);
  };
  for (const u of opts.users ?? []) putUser(u);

  // The port is known before the provider is built: the issuer is part of every token.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${host}:${port}`;
  const resourceIdentifier = opts.resourceServer?.identifier ?? `${issuer}/api`;
  const resourceScopes = [
    ...new Set([...(opts.resourceServer?.scopes ?? []), ...(opts.serviceClients ?? []).flatMap((c) => c.scopes)]),
  ];
  const ttl = { idToken: 3600, accessToken: 3600, refreshToken: 30 * 86400, ...opts.ttl };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
  const webClientIds = new Set((opts.webClients ?? []).map((c) => c.clientId));

  const configuration: Configuration = {
    clients: [
      ...(opts.webClients ?? []).map((c) => ({
        client_id: c.clientId,
        token_endpoint_auth_method: 'none' as const,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code' as const],
        redirect_uris: [...c.redirectUris],
        post_logout_redirect_uris: [...(c.logoutUris ?? c.redirectUris)],
      })),
      ...(opts.serviceClients ?? []).map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic' as const,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: c.scopes.join(' '),
      })),
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    routes: ROUTES,
    scopes: ['openid', 'email', 'profile', 'offline_access', ...resourceScopes],
    claims: {
      openid: ['sub', 'token_use', 'cognito:username', 'cognito:groups', 'custom:tenant'],
      email: ['email', 'email_verified'],
      profile: [],
    },
    // Cognito puts the user's claims in the ID token whatever else the response carries.
    conformIdTokenClaims: false,
    ttl: {
      IdToken: ttl.idToken,
      AccessToken: ttl.accessToken,
      ClientCredentials: ttl.accessToken,
      RefreshToken: ttl.refreshToken,
      Session: ttl.refreshToken,
      Grant: ttl.refreshToken,
      Interaction: 600,
      AuthorizationCode: 300,
    },
    pkce: { required: () => true },
    // Like a Cognito app client with the refresh-token flow: a refresh token for every code exchange.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: false,
    clientBasedCORS: (_ctx, origin, client) =>
      client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false,
    findAccount: async (_ctx, sub) => {
      const u = bySub.get(sub);
      if (!u) return undefined;
      return { accountId: sub, claims: async () => userClaims(u) };
    },
    // First-party clients: the grant is made on sign-in, never asked for.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const client = ctx.oidc.client;
      const accountId = ctx.oidc.session?.accountId;
      if (!client || !accountId) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(client.clientId);
      if (grantId) {
        const found = await ctx.oidc.provider.Grant.find(grantId);
        if (found) return found;
      }
      if (!webClientIds.has(client.clientId)) return undefined;
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId: client.clientId });
      grant.addOIDCScope('openid email profile offline_access');
      await grant.save();
      return grant;
    },
    extraTokenClaims: async (_ctx, token) => {
      if (token.kind === 'ClientCredentials') return { token_use: 'access', client_id: token.clientId };
      return { token_use: 'access' };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: {
        enabled: true,
        // A client revokes only its own tokens (the web app's sign-out revokes its refresh token).
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = signedOutPage();
        },
      },
      resourceIndicators: {
        enabled: true,
        // Client-credentials tokens are for the resource server; sign-in tokens stay for userinfo (as Cognito's).
        defaultResource: async (ctx) =>
          ctx.oidc.params?.grant_type === 'client_credentials' ? resourceIdentifier : undefined,
        useGrantedResource: async () => false,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (indicator !== resourceIdentifier) throw new LocalConfigError(`unknown resource ${indicator}`);
          return {
            scope: resourceScopes.join(' '),
            accessTokenFormat: 'jwt',
            accessTokenTTL: ttl.accessToken,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  };

  const provider = new Provider(issuer, configuration);
  // The provider logs nothing by default; its `server_error` events carry no secrets but are kept quiet here too.
  provider.on('server_error', () => undefined);
  const callback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new LocalConfigError('the sign-in page does not match this session');
    if (action === undefined && req.method === 'GET') {
      sendHtml(res, 200, loginPage(uid, null));
      return;
    }
    if (action === 'login' && req.method === 'POST') {
      const form = await readForm(req);
      const user = users.get(form.get('username') ?? '');
      if (!user || !sameSecret(user.password, form.get('password') ?? '')) {
        sendHtml(res, 200, loginPage(uid, 'Incorrect username or password.'));
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: user.sub } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    sendHtml(res, 404, '<!DOCTYPE html><title>Not found</title><p>Not found.</p>');
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/.exec(url.pathname);
    if (m?.[1]) {
      interaction(req, res, m[1], m[2]).catch(() => {
        if (!res.headersSent) sendHtml(res, 400, expiredPage());
      });
      return;
    }
    if (url.pathname === '/logout') {
      // Cognito's sign-out URL: client_id and logout_uri, mapped onto the OpenID Connect end-session request.
      const target = new URL(ROUTES.end_session, issuer);
      const clientId = url.searchParams.get('client_id');
      const back = url.searchParams.get('logout_uri');
      if (clientId) target.searchParams.set('client_id', clientId);
      if (back) target.searchParams.set('post_logout_redirect_uri', back);
      res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' });
      res.end();
      return;
    }
    callback(req, res);
  });

  return {
    url: issuer,
    issuer,
    jwksUri: `${issuer}${ROUTES.jwks}`,
    authorizeUrl: `${issuer}${ROUTES.authorization}`,
    tokenUrl: `${issuer}${ROUTES.token}`,
    userInfoUrl: `${issuer}${ROUTES.userinfo}`,
    logoutUrl: `${issuer}/logout`,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    resourceIdentifier,
    putUser,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  });
  res.end(html);
}
