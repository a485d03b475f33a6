import { SESv2Client } from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { SesSuppressionList } from './suppression-list';

/** An SES stand-in for ListSuppressedDestinations: entries with the time they were added, StartDate honoured. */
function fakeSes(entries: { address: string; at: number; tenant?: string }[]) {
  const calls: { tenant?: string; start?: number }[] = [];
  // A real client whose calls are answered before they leave it (the paginator wants a real SESv2Client).
  const client = new SESv2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  client.middlewareStack.add(
    () => async (args) => {
      const { TenantName, StartDate } = args.input as { TenantName?: string; StartDate?: Date };
      calls.push({ tenant: TenantName, start: StartDate?.getTime() });
      const output = {
        $metadata: {},
        SuppressedDestinationSummaries: entries
          .filter((e) => e.tenant === TenantName && (!StartDate || e.at >= StartDate.getTime()))
          .map((e) => ({ EmailAddress: e.address, Reason: 'BOUNCE', LastUpdateTime: new Date(e.at) })),
      };
      return { output } as never;
    },
    { step: 'initialize' },
  );
  return { client, calls };
}

describe('SesSuppressionList', () => {
  it('lists in full once, then only additions since the last listing, then in full again to forget removals', async () => {
    let now = 1_000_000_000;
    const entries = [{ address: 'Old@X.test', at: now - 86_400_000 }];
    const { client, calls } = fakeSes(entries);
    const list = new SesSuppressionList(client, 60_000, () => now, 3_600_000, 300_000);

    expect([...(await list.suppressed('acme', ['old@x.test', 'new@x.test']))]).toEqual(['old@x.test']);
    expect(calls.filter((c) => c.tenant === undefined)).toEqual([{ tenant: undefined, start: undefined }]);

    // Within the ttl: no call. After it: an incremental listing from the last one minus the overlap.
    entries.push({ address: 'new@x.test', at: now + 30_000 });
    now += 30_000;
    expect((await list.suppressed('acme', ['new@x.test'])).size).toBe(0);
    now += 40_000;
    expect([...(await list.suppressed('acme', ['new@x.test']))]).toEqual(['new@x.test']);
    const account = calls.filter((c) => c.tenant === undefined);
    expect(account).toHaveLength(2);
    expect(account[1]!.start).toBe(1_000_000_000 - 300_000);

    // A removal is seen at the next full listing only.
    entries.splice(0, 1);
    now += 60_000;
    expect((await list.suppressed('acme', ['old@x.test'])).size).toBe(1);
    now += 3_600_000;
    expect((await list.suppressed('acme', ['old@x.test'])).size).toBe(0);
    expect(calls.filter((c) => c.tenant === undefined).at(-1)!.start).toBeUndefined();
  });

  it("checks the tenant's own list as well as the account's", async () => {
    const { client } = fakeSes([{ address: 'a@y.test', at: 0, tenant: 'acme' }]);
    const list = new SesSuppressionList(client);
    expect((await list.suppressed('acme', ['A@y.test'])).size).toBe(1);
    expect((await list.suppressed('globex', ['a@y.test'])).size).toBe(0);
  });
});
