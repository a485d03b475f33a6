import { Resolver } from 'node:dns/promises';
import { organisationalDomain } from './dmarc';
import type { DnsFacts } from './evaluator';
import type { DnsSource } from './ports';

/** Codes that mean "no such record" (an answer), not a failed lookup. */
const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND']);

/**
 * DNS facts through node's `dns.Resolver` (the DNS protocol, c-ares), pointed at the servers given: the VPC resolver
 * or a public one in AWS, the local DNS server in `sesflow start`. "No such record" is an empty answer; any other
 * failure (timeout, SERVFAIL, refused) is reported as a failure so the evaluator never reads it as a pass.
 */
export class ResolverDnsSource implements DnsSource {
  private readonly resolver: Resolver;

  /** `servers`: `host` or `host:port` (empty: the system's resolvers). */
  constructor(servers: readonly string[] = [], opts: { timeoutMs?: number; tries?: number } = {}) {
    this.resolver = new Resolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 });
    if (servers.length > 0) this.resolver.setServers([...servers]);
  }

  async facts(q: {
    domain: string;
    fromDomain: string;
    dkimTokens: readonly string[];
    mailFromDomain: string | null;
  }): Promise<DnsFacts> {
    const failures: DnsFacts['failures'] = [];
    const lookup = async <T>(name: string, run: () => Promise<T[]>): Promise<T[]> => {
      try {
        return await run();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        if (!NO_RECORD.has(code)) failures.push({ name, reason: code });
        return [];
      }
    };
    const txt = (name: string) =>
      lookup(name, async () => (await this.resolver.resolveTxt(name)).map((chunks) => chunks.join('')));
    const org = organisationalDomain(q.fromDomain);
    const mf = q.mailFromDomain;
    const [dkim, mailFromTxt, mailFromMx, dmarc, orgDmarc] = await Promise.all([
      Promise.all(
        q.dkimTokens.map(async (t) => {
          const name = `${t}._domainkey.${q.domain}`;
          return { name, targets: await lookup(name, () => this.resolver.resolveCname(name)) };
        }),
      ),
      mf ? txt(mf) : Promise.resolve([]),
      mf ? lookup(mf, async () => (await this.resolver.resolveMx(mf)).map((m) => m.exchange)) : Promise.resolve([]),
      txt(`_dmarc.${q.fromDomain}`),
      org !== q.fromDomain ? txt(`_dmarc.${org}`) : Promise.resolve(null),
    ]);
    return { dkim, mailFromTxt, mailFromMx, dmarc, orgDmarc, failures };
  }
}
