import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from '../../lib/http/token-bucket';
import { MemoryTenantStore } from '../../tenants/tenant-service';
import { createApiKeyAuthenticator, memoryApiKeyLookup } from '../adapters/api-key-authenticator';
import type { ErasureInput, RecipientEraser, ReportEngine } from './ports';
import { DEFAULT_THRESHOLDS } from './risk';
import { createRouter } from './router';

const KEYS = {
  'key-compliance': { keyId: 'k-comp', role: 'compliance', tenantId: null },
  'key-acme': { keyId: 'k-acme', role: 'client', tenantId: 'acme' },
} as const;

function setup(eraser?: RecipientEraser) {
  const reports: ReportEngine = { reports: () => [], run: async () => ({ columns: [], rows: [] }) };
  const handle = createRouter({
    auth: createApiKeyAuthenticator(memoryApiKeyLookup(KEYS)),
    reports,
    live: { figures: async () => [] },
    tenants: new MemoryTenantStore([]),
    limiter: new TokenBucketLimiter(100, 1),
    thresholds: DEFAULT_THRESHOLDS,
    erasure: eraser,
  });
  return (key: string, body: unknown) =>
    handle({
      method: 'POST',
      path: '/v1/erasures',
      query: {},
      headers: { 'x-api-key': key },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
}

describe('POST /v1/erasures', () => {
  const calls: ErasureInput[] = [];
  const eraser: RecipientEraser = {
    forget: async (input) => {
      calls.push(input);
      return input.address.includes('@')
        ? { ok: true, report: { id: 'r1', dryRun: input.dryRun, stores: [] } }
        : { ok: false, error: 'address: not an email address (local@domain)' };
    },
  };

  it('runs the erasure for a compliance key, as that key, a dry run unless said otherwise', async () => {
    const post = setup(eraser);
    const res = await post('key-compliance', { address: 'ann@example.org', reason: 'ticket 12', tenant: 'acme' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body as string)).toEqual({ id: 'r1', dryRun: false, stores: [] });
    expect(calls.at(-1)).toEqual({
      address: 'ann@example.org',
      reason: 'ticket 12',
      tenant: 'acme',
      requestedBy: 'k-comp',
      dryRun: false,
    });
  });

  it('refuses a client key (403) without erasing anything', async () => {
    const before = calls.length;
    const res = await setup(eraser)('key-acme', { address: 'ann@example.org', reason: 'ticket 12' });
    expect(res.status).toBe(403);
    expect(calls.length).toBe(before);
  });

  it('400 with one line for a missing reason, a bad body or an address the privacy area refuses', async () => {
    const post = setup(eraser);
    const noReason = await post('key-compliance', { address: 'ann@example.org' });
    expect(noReason.status).toBe(400);
    expect(JSON.parse(noReason.body as string).error).toBe('a reason is required');
    expect((await post('key-compliance', '{')).status).toBe(400);
    const bad = await post('key-compliance', { address: 'not-an-address', reason: 'ticket 12' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body as string)).toEqual({ error: 'address: not an email address (local@domain)' });
  });

  it('202 with the request id where the erasure runs in the background; 503 with one line when it cannot start', async () => {
    const accepted: RecipientEraser = {
      forget: async (input) => ({ ok: true, accepted: { requestId: 'inv-7', dryRun: input.dryRun } }),
    };
    const res = await setup(accepted)('key-compliance', {
      address: 'ann@example.org',
      reason: 'ticket 12',
      dryRun: true,
    });
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body as string)).toEqual({ accepted: true, requestId: 'inv-7', dryRun: true });
    const down: RecipientEraser = {
      forget: async () => ({
        ok: false,
        unavailable: true,
        error: 'the erasure function could not be invoked: Throttled',
      }),
    };
    const refused = await setup(down)('key-compliance', { address: 'ann@example.org', reason: 'ticket 12' });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body as string)).toEqual({
      error: 'the erasure function could not be invoked: Throttled',
    });
  });

  it('404 where the stack offers no erasure', async () => {
    const res = await setup()('key-compliance', { address: 'ann@example.org', reason: 'ticket 12' });
    expect(res.status).toBe(404);
  });
});
