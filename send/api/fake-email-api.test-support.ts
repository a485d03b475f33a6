import { afterAll, beforeAll } from 'vitest';
import { hashApiKey } from '../../lib/http/api-key';
import type { FailedAuthLimit } from '../../lib/http/auth-gate';
import { MemorySendStore } from './memory-send-store';
import { createEmailApiRouter } from './router';
import { type RunningEmailApi, startEmailApiServer } from './server';

/**
 * The Email API's real router and node:http server on a free port, with `key` the one API key (tenant `acme`), an
 * in-memory store and queue, and a sender that accepts every message without sending it: for tests of the HTTP
 * surface (hostile input, fuzzing), not of sending. `failedAuth`: the failed-key throttle (default the router's).
 */
export function startFakeEmailApi(key: string, failedAuth?: FailedAuthLimit | null): Promise<RunningEmailApi> {
  const store = new MemorySendStore();
  return startEmailApiServer({
    port: 0,
    handle: createEmailApiRouter({
      lookupKey: async (h) => (h === hashApiKey(key) ? { tenantId: 'acme', keyId: 'key-acme' } : null),
      sender: {
        send: async (m) => ({ messageId: `0100-${m.to.length}`, suppressed: [] }),
        sendBulk: async () => [],
        assertMaySend: async () => undefined,
      },
      messages: store,
      jobs: store,
      queue: { enqueue: async () => undefined },
      failedAuth,
    }),
  });
}

/** {@link startFakeEmailApi} for a file's tests: started before them, closed after them; its `url` once started. */
export function fakeEmailApiForTests(key: string, failedAuth?: FailedAuthLimit | null): { readonly url: string } {
  let api: RunningEmailApi | undefined;
  beforeAll(async () => {
    api = await startFakeEmailApi(key, failedAuth);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
  });
  return {
    get url() {
      if (!api) throw new Error('the fake Email API has not started');
      return api.url;
    },
  };
}
