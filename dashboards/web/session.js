// sesflow dashboards: who the browser is signed in as. The mode comes from the config document (/config.json):
// `api-key` locally (a key typed in, sent as x-api-key), `cognito` in AWS and under `sesflow start --sso`
// (managed login, authorization code with PKCE, the ID token sent as a bearer token, refreshed with the refresh
// token). After sign-in the app sees one interface: headers(), refresh(), clear(), signOut().
// Everything is kept in sessionStorage: this tab only, gone when it closes.

const KEY_STORAGE = 'sesflow.apiKey';
const TOKEN_STORAGE = 'sesflow.tokens';
const PKCE_STORAGE = 'sesflow.pkce';
/** Refresh this long before the ID token expires, so a request never leaves with a token about to lapse. */
const REFRESH_EARLY_MS = 60_000;

const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const randomString = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));

function readJson(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

/** The config document: `{ "mode": "api-key" }` or `{ "mode": "cognito", "domain", "clientId", "scope"? }`. */
async function loadConfig() {
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (res.ok) {
      const doc = await res.json();
      if (doc?.mode === 'cognito' && typeof doc.domain === 'string' && typeof doc.clientId === 'string') return doc;
    }
  } catch {
    // no config document: the local default
  }
  return { mode: 'api-key' };
}

function apiKeySession() {
  return {
    mode: 'api-key',
    async start() {
      return null;
    },
    signedIn: () => Boolean(sessionStorage.getItem(KEY_STORAGE)),
    useKey: (key) => sessionStorage.setItem(KEY_STORAGE, key),
    async headers() {
      return { 'x-api-key': sessionStorage.getItem(KEY_STORAGE) ?? '' };
    },
    async refresh() {
      return false;
    },
    clear: () => sessionStorage.removeItem(KEY_STORAGE),
    signOut() {
      sessionStorage.removeItem(KEY_STORAGE);
      location.hash = '#/';
      return false;
    },
  };
}

function cognitoSession(config) {
  const domain = config.domain.replace(/\/+$/, '');
  const redirectUri = `${location.origin}/`;
  const tokens = () => readJson(TOKEN_STORAGE);
  const keep = (t, refreshToken) => {
    const expiresAt = Date.now() + Number(t.expires_in ?? 3600) * 1000;
    sessionStorage.setItem(TOKEN_STORAGE, JSON.stringify({ idToken: t.id_token, refreshToken, expiresAt }));
  };
  const tokenRequest = async (params) => {
    const res = await fetch(`${domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: config.clientId, ...params }),
    });
    if (!res.ok) return null;
    const body = await res.json();
    return typeof body.id_token === 'string' ? body : null;
  };

  let refreshing = null;
  async function refresh() {
    const current = tokens();
    if (!current?.refreshToken) return false;
    // One refresh at a time: the page's parallel requests share it.
    refreshing ??= tokenRequest({ grant_type: 'refresh_token', refresh_token: current.refreshToken })
      .then((t) => {
        if (!t) return false;
        keep(t, t.refresh_token ?? current.refreshToken);
        return true;
      })
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  return {
    mode: 'cognito',
    /** Finishes a sign-in when the provider has sent the browser back with a code; returns an error message or null. */
    async start() {
      const params = new URLSearchParams(location.search);
      if (!params.has('code') && !params.has('error')) return null;
      const pending = readJson(PKCE_STORAGE);
      sessionStorage.removeItem(PKCE_STORAGE);
      history.replaceState(null, '', `${location.pathname}${pending?.hash ?? ''}`);
      if (params.has('error')) return `Sign-in failed: ${params.get('error_description') ?? params.get('error')}`;
      if (!pending || pending.state !== params.get('state')) return 'Sign-in failed: the answer does not match.';
      const t = await tokenRequest({
        grant_type: 'authorization_code',
        code: params.get('code'),
        code_verifier: pending.verifier,
        redirect_uri: redirectUri,
      }).catch(() => null);
      if (!t) return 'Sign-in failed: the code could not be exchanged.';
      keep(t, t.refresh_token ?? null);
      return null;
    },
    signedIn: () => Boolean(tokens()?.idToken),
    /** Sends the browser to the managed login page (authorization code with PKCE, S256). */
    async signIn() {
      const verifier = randomString(48);
      const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
      const state = randomString(16);
      sessionStorage.setItem(PKCE_STORAGE, JSON.stringify({ state, verifier, hash: location.hash }));
      const url = new URL(`${domain}/oauth2/authorize`);
      url.search = new URLSearchParams({
        client_id: config.clientId,
        response_type: 'code',
        scope: config.scope ?? 'openid email profile',
        redirect_uri: redirectUri,
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }).toString();
      location.assign(url.toString());
    },
    async headers() {
      const t = tokens();
      if (t && t.expiresAt - Date.now() < REFRESH_EARLY_MS) await refresh();
      return { authorization: `Bearer ${tokens()?.idToken ?? ''}` };
    },
    refresh,
    clear: () => sessionStorage.removeItem(TOKEN_STORAGE),
    /** Ends the session here and at the provider (Cognito's /logout), which sends the browser back to the app. */
    signOut() {
      const refreshToken = tokens()?.refreshToken;
      sessionStorage.removeItem(TOKEN_STORAGE);
      if (refreshToken) {
        fetch(`${domain}/oauth2/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: refreshToken, client_id: config.clientId }),
          keepalive: true,
        }).catch(() => undefined);
      }
      const url = new URL(`${domain}/logout`);
      url.search = new URLSearchParams({ client_id: config.clientId, logout_uri: redirectUri }).toString();
      location.assign(url.toString());
      return true;
    },
  };
}

/** The session of this page, in the mode the config document names. */
export async function createSession() {
  const config = await loadConfig();
  return config.mode === 'cognito' ? cognitoSession(config) : apiKeySession();
}
