import { type Fetcher, SimpleFetcher } from 'aws-jwt-verify/https';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The fetcher aws-jwt-verify takes a JWKS with: over HTTPS its own fetcher (as in AWS, from Cognito); plain HTTP only
 * from a loopback address, where the local OpenID Connect provider runs, so a misconfigured deployment can never
 * take its signing keys from a plaintext URL. Pass it as `new SimpleJwksCache({ fetcher: jwksFetcher() })`.
 */
export function jwksFetcher(): Fetcher {
  const https = new SimpleFetcher();
  return {
    async fetch(uri, requestOptions, data) {
      const url = new URL(uri);
      if (url.protocol === 'https:') return https.fetch(uri, requestOptions, data);
      if (url.protocol !== 'http:' || !LOOPBACK.has(url.hostname)) {
        throw new Error(`a JWKS is fetched over https only (got ${url.protocol}//${url.hostname})`);
      }
      const res = await fetch(url, { signal: AbortSignal.timeout(1500) });
      if (res.status !== 200) throw new Error(`the JWKS answered ${res.status}`);
      return res.arrayBuffer();
    },
  };
}
