import { GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import type { PipelineService } from '../pipeline/service';
import type { IdentityStatus } from '../ses-simulator/identities';
import { type DemoSenderAuth, demoZoneRecords } from './demo-zone';
import { startDnsServer } from './server';

/** How the SES simulator sees the demo identities: DKIM SUCCESS where the CNAMEs are published, else PENDING. */
export function demoIdentityStatus(setups: readonly DemoSenderAuth[]): (domain: string) => IdentityStatus | undefined {
  const byDomain = new Map(setups.map((s) => [s.domain, s]));
  return (domain) => {
    const s = byDomain.get(domain);
    return s ? { dkim: s.dkimPublished ? 'SUCCESS' : 'PENDING', mailFrom: 'SUCCESS' } : undefined;
  };
}

/**
 * The local DNS server as a service of the pipeline, after the demo tenants: it publishes their records with the DKIM
 * tokens SES gave (read back with GetEmailIdentity, as an operator copies them from the console) and sets
 * `endpoints.dns` for the sender-auth checks. Port: `SESFLOW_PORT_DNS` (UDP; default a free one).
 */
export function dnsServerService(opts: {
  setups: () => readonly DemoSenderAuth[];
  region: string;
  port?: number;
}): PipelineService {
  return {
    name: 'dns-server',
    async start(ctx) {
      const ses = ctx.clients.ses!;
      const tokens = new Map<string, string[]>();
      for (const s of opts.setups()) {
        const out = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: s.domain }));
        tokens.set(s.domain, out.DkimAttributes?.Tokens ?? []);
      }
      const server = await startDnsServer({
        records: demoZoneRecords(opts.setups(), (d) => tokens.get(d) ?? [], opts.region),
        port: opts.port ?? 0,
      });
      ctx.endpoints.dns = server.address;
      ctx.shared.dnsServer = server;
      ctx.links.push({ label: 'DNS (dns2, UDP) for the demo domains', url: server.address });
      return { stop: () => server.close() };
    },
  };
}
