import {
  type AlignmentMode,
  aligned,
  type DmarcLookup,
  type DmarcPolicy,
  organisationalDomain,
  parseDmarc,
  spfIncludesSes,
  spfRecords,
} from './dmarc';

/**
 * The bulk-sender readiness of a tenant's sending domains, decided over facts gathered by the adapters (SESv2
 * GetEmailIdentity, DNS). Pure: no lookups, no clock. What Gmail and Yahoo require of bulk senders since February 2024:
 * SPF and DKIM, a DMARC record (at least `p=none`) with the From domain aligned with SPF or DKIM, one-click
 * unsubscribe on marketing mail, and a spam rate under 0.3 %.
 */

export const VERDICTS = ['ready', 'at risk', 'blocked'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Gmail's spam-rate line for bulk senders (0.3 %); above it, mail is throttled or rejected. */
export const GMAIL_SPAM_RATE_LIMIT = 0.003;

/** What SES says about one sending domain (GetEmailIdentity); null when SES has no such identity. */
export interface IdentityFacts {
  verifiedForSending: boolean;
  dkim: {
    signingEnabled: boolean;
    /** SES's DKIM status: SUCCESS, PENDING, FAILED, TEMPORARY_FAILURE, NOT_STARTED. */
    status: string | null;
    /** Easy DKIM: the CNAME tokens SES asks to publish; BYODKIM: none. */
    tokens: string[];
    /** `AWS_SES` (Easy DKIM) or `EXTERNAL` / `AWS_SES_*` (BYODKIM). */
    origin: string | null;
  };
  mailFrom: {
    /** The custom MAIL FROM domain; null when the domain uses SES's own (amazonses.com). */
    domain: string | null;
    /** SUCCESS, PENDING, FAILED, TEMPORARY_FAILURE. */
    status: string | null;
  };
}

/** What DNS answered for one sending domain. Each list holds the answers (empty: the name has no such record). */
export interface DnsFacts {
  /** Easy DKIM: each `<token>._domainkey.<domain>` CNAME and where it points. */
  dkim: { name: string; targets: string[] }[];
  /** TXT and MX of the custom MAIL FROM domain (empty without one). */
  mailFromTxt: string[];
  mailFromMx: string[];
  /** TXT at `_dmarc.<from domain>`. */
  dmarc: string[];
  /** TXT at `_dmarc.<organisational domain>`, when the From domain is a subdomain of it. */
  orgDmarc: string[] | null;
  /** Names whose lookup failed (a timeout or SERVFAIL, not "no such record"), with the reason. */
  failures: { name: string; reason: string }[];
}

export interface DomainFacts {
  /** The sending domain (the SES identity). */
  domain: string;
  /** The domain in the From header (default: the sending domain). */
  fromDomain?: string;
  /** The SES region (its feedback MX is `feedback-smtp.<region>.amazonses.com`). */
  region: string;
  identity: IdentityFacts | null;
  dns: DnsFacts;
}

export const CHECK_OUTCOMES = ['pass', 'note', 'risk', 'block'] as const;
/** A check's outcome: `risk` makes the domain "at risk", `block` makes it "blocked"; a note is information only. */
export type CheckOutcome = (typeof CHECK_OUTCOMES)[number];

export interface Check {
  /** Stable name: `ses-identity`, `dkim`, `dkim-dns`, `mail-from`, `spf`, `mail-from-mx`, `dmarc`, `alignment`. */
  id: string;
  outcome: CheckOutcome;
  /** What was found, in plain words. */
  detail: string;
  /** What to do about it (absent when the check passed). */
  fix?: string;
}

export interface DmarcSummary {
  /** Where the record applying to the From domain was found (null: none). */
  name: string | null;
  policy: DmarcPolicy | null;
  pct: number | null;
  rua: string[];
  adkim: AlignmentMode;
  aspf: AlignmentMode;
}

export interface DomainReadiness {
  domain: string;
  fromDomain: string;
  verdict: Verdict;
  /** Every reason for the verdict, in plain words (empty when ready). */
  reasons: string[];
  checks: Check[];
  dmarc: DmarcSummary;
  dkimAligned: boolean;
  spfAligned: boolean;
}

export interface TenantFacts {
  tenantId: string;
  domains: DomainFacts[];
  /** Complaint rate over the policy's window (complaints / delivered); null when too little was delivered to tell. */
  complaintRate: number | null;
  /** Whether marketing mail carries one-click unsubscribe (the Email API's unsubscribe link is configured). */
  oneClickUnsubscribe: boolean;
}

export interface TenantReadiness {
  tenantId: string;
  verdict: Verdict;
  /** Every reason, prefixed with the domain it is about. */
  reasons: string[];
  domains: DomainReadiness[];
  complaintRate: number | null;
  gmailSpamRateLimit: number;
  oneClickUnsubscribe: boolean;
}

const RANK: Record<Verdict, number> = { ready: 0, 'at risk': 1, blocked: 2 };

/** The worse of verdicts (blocked over at risk over ready). */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  return verdicts.reduce<Verdict>((w, v) => (RANK[v] > RANK[w] ? v : w), 'ready');
}

function verdictOf(checks: readonly Check[]): Verdict {
  if (checks.some((c) => c.outcome === 'block')) return 'blocked';
  if (checks.some((c) => c.outcome === 'risk')) return 'at risk';
  return 'ready';
}

const pct = (rate: number) => `${(rate * 100).toFixed(2).replace(/\.?0+$/, '')} %`;

/** The DMARC record that applies to the From domain: its own, else the organisational domain's (with `sp=`). */
function dmarcFor(
  fromDomain: string,
  dns: DnsFacts,
): { lookup: DmarcLookup; name: string; policy: DmarcPolicy | null; inherited: boolean } {
  const own = parseDmarc(dns.dmarc);
  const org = organisationalDomain(fromDomain);
  if (own.kind === 'missing' && org !== fromDomain && dns.orgDmarc) {
    const parent = parseDmarc(dns.orgDmarc);
    if (parent.kind !== 'missing') {
      const policy = parent.kind === 'found' ? parent.record.subdomainPolicy : null;
      return { lookup: parent, name: `_dmarc.${org}`, policy, inherited: true };
    }
  }
  return {
    lookup: own,
    name: `_dmarc.${fromDomain}`,
    policy: own.kind === 'found' ? own.record.policy : null,
    inherited: false,
  };
}

/** Evaluates one sending domain. */
export function evaluateDomain(f: DomainFacts): DomainReadiness {
  const domain = f.domain.toLowerCase();
  const fromDomain = (f.fromDomain ?? f.domain).toLowerCase();
  const checks: Check[] = [];
  const id = f.identity;
  const failed = new Map(f.dns.failures.map((x) => [x.name, x.reason]));
  const lookupFailed = (name: string) =>
    failed.has(name) ? `could not look up ${name} (${failed.get(name)}), so it is not known to be right` : null;

  if (!id) {
    checks.push({
      id: 'ses-identity',
      outcome: 'block',
      detail: `${domain} is not an identity in SES, so SES will not send from it`,
      fix: `create the domain identity ${domain} in SES (CreateEmailIdentity) and publish the records SES gives`,
    });
  } else if (!id.verifiedForSending) {
    checks.push({
      id: 'ses-identity',
      outcome: 'block',
      detail: `SES has not verified ${domain} for sending`,
      fix: `publish the DKIM CNAME records SES gives for ${domain}; SES verifies the domain once it finds them`,
    });
  } else {
    checks.push({ id: 'ses-identity', outcome: 'pass', detail: `SES has verified ${domain} for sending` });
  }

  // DKIM: signing on and SES's status SUCCESS.
  const dkimOk = !!id && id.dkim.signingEnabled && id.dkim.status === 'SUCCESS';
  if (!id) {
    // Nothing more to say about DKIM than the missing identity.
  } else if (!id.dkim.signingEnabled) {
    checks.push({
      id: 'dkim',
      outcome: 'risk',
      detail: 'DKIM signing is off: mail from this domain is not DKIM-signed',
      fix: `turn DKIM signing on for ${domain} in SES (PutEmailIdentityDkimAttributes)`,
    });
  } else if (id.dkim.status !== 'SUCCESS') {
    checks.push({
      id: 'dkim',
      outcome: 'risk',
      detail: `DKIM is ${(id.dkim.status ?? 'not started').toLowerCase().replace(/_/g, ' ')} in SES: mail is not DKIM-signed with ${domain} until it succeeds`,
      fix: `publish the ${id.dkim.tokens.length || 3} DKIM CNAME records SES lists for ${domain}; SES checks them again within 72 hours`,
    });
  } else {
    checks.push({ id: 'dkim', outcome: 'pass', detail: `DKIM signing is on and verified (d=${domain})` });
  }
  if (id && (id.dkim.origin === null || id.dkim.origin === 'AWS_SES') && id.dkim.tokens.length > 0) {
    const missing: string[] = [];
    for (const token of id.dkim.tokens) {
      const name = `${token}._domainkey.${domain}`;
      const expected = `${token}.dkim.amazonses.com`;
      const r = f.dns.dkim.find((d) => d.name === name);
      const ok = r?.targets.some((t) => t.toLowerCase().replace(/\.$/, '') === expected) ?? false;
      if (!ok) missing.push(lookupFailed(name) ?? `${name} does not point to ${expected}`);
    }
    const n = id.dkim.tokens.length;
    checks.push(
      missing.length === 0
        ? { id: 'dkim-dns', outcome: 'pass', detail: `all ${n} DKIM CNAME records resolve` }
        : {
            id: 'dkim-dns',
            outcome: 'risk',
            detail: `${missing.length} of ${n} DKIM CNAME records are not right: ${missing[0]}${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`,
            fix: `add CNAME records <token>._domainkey.${domain} -> <token>.dkim.amazonses.com for every DKIM token SES lists`,
          },
    );
  }

  // SPF: a custom MAIL FROM domain under the From domain, authorising SES, with SES's feedback MX.
  const mailFrom = id?.mailFrom.domain?.toLowerCase() ?? null;
  let spfPasses = false;
  if (id && !mailFrom) {
    checks.push({
      id: 'mail-from',
      outcome: 'risk',
      detail: `no custom MAIL FROM domain: SPF is checked on amazonses.com, not on ${domain}, so SPF cannot align`,
      fix: `set a custom MAIL FROM domain such as bounce.${domain} in SES (PutEmailIdentityMailFromAttributes)`,
    });
  } else if (id && mailFrom) {
    if (id.mailFrom.status !== 'SUCCESS') {
      checks.push({
        id: 'mail-from',
        outcome: 'risk',
        detail: `MAIL FROM ${mailFrom} is ${(id.mailFrom.status ?? 'pending').toLowerCase().replace(/_/g, ' ')} in SES: SES uses amazonses.com until it succeeds`,
        fix: `publish the MX and SPF records of ${mailFrom} that SES lists`,
      });
    } else {
      checks.push({ id: 'mail-from', outcome: 'pass', detail: `custom MAIL FROM ${mailFrom} is in use` });
    }
    const spf = spfRecords(f.dns.mailFromTxt);
    const spfFix = `publish one TXT record at ${mailFrom}: "v=spf1 include:amazonses.com ~all"`;
    const spfFailure = lookupFailed(mailFrom);
    if (spfFailure) checks.push({ id: 'spf', outcome: 'risk', detail: spfFailure, fix: spfFix });
    else if (spf.length === 0) {
      checks.push({ id: 'spf', outcome: 'risk', detail: `${mailFrom} has no SPF record`, fix: spfFix });
    } else if (spf.length > 1) {
      checks.push({
        id: 'spf',
        outcome: 'risk',
        detail: `${mailFrom} has ${spf.length} SPF records: receivers treat that as an SPF error`,
        fix: `merge them into one: ${spfFix}`,
      });
    } else if (!spfIncludesSes(spf[0]!)) {
      checks.push({
        id: 'spf',
        outcome: 'risk',
        detail: `the SPF record of ${mailFrom} does not include amazonses.com`,
        fix: `add include:amazonses.com to it: ${spfFix}`,
      });
    } else {
      spfPasses = id.mailFrom.status === 'SUCCESS';
      checks.push({ id: 'spf', outcome: 'pass', detail: `the SPF record of ${mailFrom} includes amazonses.com` });
    }
    const feedback = `feedback-smtp.${f.region}.amazonses.com`;
    const hasMx = f.dns.mailFromMx.some((mx) => mx.toLowerCase().replace(/\.$/, '') === feedback);
    if (!hasMx) {
      checks.push({
        id: 'mail-from-mx',
        outcome: 'risk',
        detail: lookupFailed(mailFrom) ?? `${mailFrom} has no MX record pointing to ${feedback}`,
        fix: `add an MX record at ${mailFrom}: 10 ${feedback}`,
      });
    } else {
      checks.push({ id: 'mail-from-mx', outcome: 'pass', detail: `${mailFrom} has its MX at ${feedback}` });
    }
  }

  // DMARC: the record applying to the From domain.
  const dm = dmarcFor(fromDomain, f.dns);
  const dmarcFix = `publish one TXT record at _dmarc.${fromDomain}: "v=DMARC1; p=none; rua=mailto:dmarc-reports@${organisationalDomain(fromDomain)}" (p=none at least; quarantine or reject once reports show all mail aligned)`;
  const record = dm.lookup.kind === 'found' ? dm.lookup.record : null;
  const dmarcFailure = lookupFailed(`_dmarc.${fromDomain}`);
  if (dmarcFailure) checks.push({ id: 'dmarc', outcome: 'risk', detail: dmarcFailure, fix: dmarcFix });
  else if (dm.lookup.kind === 'missing') {
    checks.push({
      id: 'dmarc',
      outcome: 'risk',
      detail: `no DMARC record at _dmarc.${fromDomain}: Gmail and Yahoo require one of bulk senders`,
      fix: dmarcFix,
    });
  } else if (dm.lookup.kind === 'multiple') {
    checks.push({
      id: 'dmarc',
      outcome: 'risk',
      detail: `${dm.name} has ${dm.lookup.count} DMARC records: receivers then apply none of them`,
      fix: `keep exactly one: ${dmarcFix}`,
    });
  } else if (dm.lookup.kind === 'invalid') {
    checks.push({
      id: 'dmarc',
      outcome: 'risk',
      detail: `the DMARC record at ${dm.name} is not valid (${dm.lookup.reason})`,
      fix: dmarcFix,
    });
  } else if (record) {
    const from = dm.inherited ? ` (from ${dm.name}, sp=${record.subdomainPolicy} for subdomains)` : '';
    checks.push({
      id: 'dmarc',
      outcome: 'pass',
      detail: `DMARC policy ${dm.policy}${record.pct < 100 ? ` on ${record.pct} % of failing mail` : ''}${from}`,
    });
    if (record.rua.length === 0) {
      checks.push({
        id: 'dmarc-reports',
        outcome: 'note',
        detail: 'the DMARC record asks for no aggregate reports (no rua=), so failures go unseen',
        fix: `add rua=mailto:<address> to ${dm.name}`,
      });
    }
  }

  // Alignment: DMARC passes when DKIM or SPF passes for a domain aligned with the From domain.
  const adkim = record?.adkim ?? 'r';
  const aspf = record?.aspf ?? 'r';
  const dkimAligned = dkimOk && aligned(fromDomain, domain, adkim);
  const spfAligned = spfPasses && !!mailFrom && aligned(fromDomain, mailFrom, aspf);
  if (dkimAligned || spfAligned) {
    const how = [
      dkimAligned ? `DKIM (d=${domain}, adkim=${adkim})` : '',
      spfAligned ? `SPF (${mailFrom}, aspf=${aspf})` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    checks.push({ id: 'alignment', outcome: 'pass', detail: `From ${fromDomain} aligns with ${how}` });
  } else if (id) {
    const enforcing = record && dm.policy !== 'none' && record.pct > 0;
    const why = [
      dkimOk ? `DKIM d=${domain} does not align under adkim=${adkim}` : 'DKIM does not pass',
      spfPasses && mailFrom
        ? `MAIL FROM ${mailFrom} does not align under aspf=${aspf}`
        : 'SPF does not pass for an own domain',
    ].join('; ');
    checks.push({
      id: 'alignment',
      outcome: enforcing ? 'block' : 'risk',
      detail: enforcing
        ? `mail from ${fromDomain} fails DMARC (${why}) and the policy p=${dm.policy} tells receivers to ${dm.policy} it`
        : `mail from ${fromDomain} aligns with neither DKIM nor SPF (${why})`,
      fix: `get DKIM for ${domain} verified${adkim === 's' && fromDomain !== domain ? `, or relax adkim=s to adkim=r` : ''}, or set a custom MAIL FROM under ${organisationalDomain(fromDomain)}`,
    });
  }

  const verdict = verdictOf(checks);
  return {
    domain,
    fromDomain,
    verdict,
    reasons: checks.filter((c) => c.outcome === 'risk' || c.outcome === 'block').map((c) => c.detail),
    checks,
    dmarc: {
      name: record ? dm.name : null,
      policy: dm.policy,
      pct: record?.pct ?? null,
      rua: record?.rua ?? [],
      adkim,
      aspf,
    },
    dkimAligned,
    spfAligned,
  };
}

/** Evaluates a tenant: the worst of its domains, its complaint rate against Gmail's 0.3 %, and unsubscribe. */
export function evaluateTenant(f: TenantFacts): TenantReadiness {
  const domains = f.domains.map(evaluateDomain);
  const reasons = domains.flatMap((d) => d.reasons.map((r) => `${d.domain}: ${r}`));
  const verdicts = domains.map((d) => d.verdict);
  if (domains.length === 0) {
    reasons.push('the tenant has no sending domain');
    verdicts.push('blocked');
  }
  if (f.complaintRate !== null && f.complaintRate >= GMAIL_SPAM_RATE_LIMIT) {
    reasons.push(`complaint rate ${pct(f.complaintRate)} is at or above Gmail's ${pct(GMAIL_SPAM_RATE_LIMIT)}`);
    verdicts.push('at risk');
  }
  if (!f.oneClickUnsubscribe) {
    reasons.push('marketing mail goes out without one-click unsubscribe (no unsubscribe link is configured)');
    verdicts.push('at risk');
  }
  return {
    tenantId: f.tenantId,
    verdict: worstVerdict(verdicts),
    reasons,
    domains,
    complaintRate: f.complaintRate,
    gmailSpamRateLimit: GMAIL_SPAM_RATE_LIMIT,
    oneClickUnsubscribe: f.oneClickUnsubscribe,
  };
}
