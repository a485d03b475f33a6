import { createHash, randomBytes } from 'node:crypto';
import { LocalConfigError } from '../errors';
import type { RunningOidcProvider } from './provider';

/** The token endpoint's answer to a code or refresh exchange. */
export interface OidcTokens {
  id_token: string;
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  token_type: string;
}

/** A cookie jar of one host, enough to carry the provider's session through redirects. */
class Jar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * Signs in to the local provider without a browser, as a browser app would (authorization code with PKCE S256):
 * authorize, the sign-in form, the redirect with the code, the token exchange. For scripted checks and tests;
 * people sign in through the web UI. Throws with the provider's page status when the credentials are refused.
 */
export async function signInWithCode(
  provider: Pick<RunningOidcProvider, 'authorizeUrl' | 'tokenUrl'>,
  opts: { clientId: string; redirectUri: string; username: string; password: string; scope?: string },
): Promise<OidcTokens> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const auth = new URL(provider.authorizeUrl);
  auth.search = new URLSearchParams({
    client_id: opts.clientId,
    redirect_uri: opts.redirectUri,
    response_type: 'code',
    scope: opts.scope ?? 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
  }).toString();
  const jar = new Jar();
  let next = auth.toString();
  let code: string | null = null;
  for (let hop = 0; hop < 8 && !code; hop++) {
    const isLogin = /\/interaction\/[^/]+\/login$/.test(new URL(next).pathname);
    const res = await fetch(next, {
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(isLogin ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(isLogin
        ? {
            method: 'POST',
            body: new URLSearchParams({ username: opts.username, password: opts.password }).toString(),
          }
        : {}),
    });
    jar.take(res);
    const location = res.headers.get('location');
    if (!location) {
      throw new LocalConfigError(`sign-in stopped at ${new URL(next).pathname} (status ${res.status})`);
    }
    const target = new URL(location, next);
    if (target.toString().startsWith(opts.redirectUri)) {
      code = target.searchParams.get('code');
      if (!code) throw new LocalConfigError(`sign-in refused: ${target.searchParams.get('error') ?? 'no code'}`);
      break;
    }
    next = /\/interaction\/[^/]+$/.test(target.pathname) ? `${target.toString()}/login` : target.toString();
  }
  if (!code) throw new LocalConfigError('sign-in did not come back with a code');
  const res = await fetch(provider.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: opts.clientId,
      redirect_uri: opts.redirectUri,
    }).toString(),
  });
  if (res.status !== 200) throw new LocalConfigError(`the token endpoint answered ${res.status}`);
  return (await res.json()) as OidcTokens;
}
