import type { ZoneRecord } from './server';

/**
 * The sender authentication of the demo tenants of `sesflow start`: what their DNS publishes and how SES sees their
 * domain identities. Every tenth tenant from the third (`initech` by default) has no DMARC record and DKIM records
 * not yet published, so SES's DKIM status is PENDING: the demo's "at risk" tenant.
 */
export interface DemoSenderAuth {
  tenant: string;
  /** The sending domain (the SES identity and the From domain). */
  domain: string;
  mailFromDomain: string;
  /** The DMARC TXT record and the name it is published at; null: none. */
  dmarc: { name: string; value: string } | null;
  /** Whether the DKIM CNAMEs are published (SES's DKIM status is SUCCESS when they are, PENDING when not). */
  dkimPublished: boolean;
}

/** The demo set-up of each tenant, by its position among the demo tenants. */
export function demoSenderAuth(tenants: readonly { name: string; fromDomain: string }[]): DemoSenderAuth[] {
  return tenants.map((t, i) => {
    const domain = t.fromDomain.toLowerCase();
    const atRisk = i % 10 === 2;
    const parent = domain.split('.').slice(-2).join('.');
    // The first tenant publishes DMARC on its organisational domain only: its sending subdomain gets `sp=`.
    const dmarc = atRisk
      ? null
      : i === 0
        ? { name: `_dmarc.${parent}`, value: `v=DMARC1; p=quarantine; sp=none; rua=mailto:dmarc@${parent}` }
        : { name: `_dmarc.${domain}`, value: `v=DMARC1; p=none; rua=mailto:dmarc-reports@${parent}` };
    return { tenant: t.name, domain, mailFromDomain: `bounce.${domain}`, dmarc, dkimPublished: !atRisk };
  });
}

/**
 * The records a tenant publishes for SES, as the SES console lists them: the three DKIM CNAMEs (with the tokens SES
 * gave), the MAIL FROM domain's MX to SES's feedback endpoint and its SPF record, and the DMARC record.
 */
export function demoZoneRecords(
  setups: readonly DemoSenderAuth[],
  dkimTokens: (domain: string) => readonly string[],
  region: string,
): ZoneRecord[] {
  const out: ZoneRecord[] = [];
  for (const s of setups) {
    if (s.dkimPublished) {
      for (const token of dkimTokens(s.domain)) {
        out.push({ name: `${token}._domainkey.${s.domain}`, type: 'CNAME', value: `${token}.dkim.amazonses.com` });
      }
    }
    out.push({ name: s.mailFromDomain, type: 'MX', value: `feedback-smtp.${region}.amazonses.com`, priority: 10 });
    out.push({ name: s.mailFromDomain, type: 'TXT', value: 'v=spf1 include:amazonses.com ~all' });
    // A record any domain has beside its DMARC one: not every TXT record is DMARC.
    out.push({ name: s.domain, type: 'TXT', value: 'v=spf1 include:amazonses.com ~all' });
    if (s.dmarc) out.push({ name: s.dmarc.name, type: 'TXT', value: s.dmarc.value });
  }
  return out;
}
