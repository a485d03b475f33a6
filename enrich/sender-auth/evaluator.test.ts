import { describe, expect, it } from 'vitest';
import { aligned, organisationalDomain, parseDmarc, spfIncludesSes } from './dmarc';
import { type DomainFacts, evaluateDomain, evaluateTenant, type IdentityFacts } from './evaluator';

const TOKENS = [
  'abcdefghijklmnopqrstuvwxyz234567',
  'bcdefghijklmnopqrstuvwxyz2345678',
  'cdefghijklmnopqrstuvwxyz23456789',
];

function identity(over: Partial<IdentityFacts> = {}): IdentityFacts {
  return {
    verifiedForSending: true,
    dkim: { signingEnabled: true, status: 'SUCCESS', tokens: TOKENS, origin: 'AWS_SES' },
    mailFrom: { domain: 'bounce.acme-example.com', status: 'SUCCESS' },
    ...over,
  };
}

/** A domain set up as SES documents it, with the DMARC TXT strings given. */
function facts(dmarc: string[], over: Partial<DomainFacts> = {}): DomainFacts {
  return {
    domain: 'acme-example.com',
    region: 'us-east-1',
    identity: identity(),
    dns: {
      dkim: TOKENS.map((t) => ({ name: `${t}._domainkey.acme-example.com`, targets: [`${t}.dkim.amazonses.com`] })),
      mailFromTxt: ['v=spf1 include:amazonses.com ~all'],
      mailFromMx: ['feedback-smtp.us-east-1.amazonses.com'],
      dmarc,
      orgDmarc: null,
      failures: [],
    },
    ...over,
  };
}

const outcome = (r: ReturnType<typeof evaluateDomain>, id: string) => r.checks.find((c) => c.id === id)?.outcome;

describe('DMARC records', () => {
  it('p=none is a valid policy: the domain is ready', () => {
    const r = evaluateDomain(facts(['v=DMARC1; p=none; rua=mailto:dmarc@acme-example.com']));
    expect(r.verdict).toBe('ready');
    expect(r.dmarc).toMatchObject({ policy: 'none', pct: 100, rua: ['mailto:dmarc@acme-example.com'] });
    expect(r.reasons).toEqual([]);
  });

  it('p=quarantine; pct=50 is read with its percentage', () => {
    const r = evaluateDomain(facts(['v=DMARC1; p=quarantine; pct=50; rua=mailto:d@acme-example.com']));
    expect(r.verdict).toBe('ready');
    expect(r.dmarc).toMatchObject({ policy: 'quarantine', pct: 50 });
    expect(r.checks.find((c) => c.id === 'dmarc')?.detail).toContain('50 % of failing mail');
  });

  it('a missing record puts the domain at risk, saying where it looked', () => {
    const r = evaluateDomain(facts(['some-site-verification=abc']));
    expect(r.verdict).toBe('at risk');
    expect(r.reasons).toEqual([
      'no DMARC record at _dmarc.acme-example.com: Gmail and Yahoo require one of bulk senders',
    ]);
    expect(r.dmarc.policy).toBeNull();
  });

  it('two records are invalid: receivers apply neither', () => {
    const lookup = parseDmarc(['v=DMARC1; p=none', 'v=DMARC1; p=reject']);
    expect(lookup).toEqual({ kind: 'multiple', count: 2 });
    const r = evaluateDomain(facts(['v=DMARC1; p=none', 'v=DMARC1; p=reject']));
    expect(r.verdict).toBe('at risk');
    expect(r.reasons[0]).toContain('has 2 DMARC records');
  });

  it('sp= of the organisational domain applies to a subdomain without its own record', () => {
    const r = evaluateDomain(
      facts([], {
        domain: 'acme-example.com',
        fromDomain: 'news.acme-example.com',
        dns: {
          ...facts([]).dns,
          dmarc: [],
          orgDmarc: ['v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@acme-example.com'],
        },
      }),
    );
    expect(r.dmarc).toMatchObject({ name: '_dmarc.acme-example.com', policy: 'quarantine' });
    expect(r.checks.find((c) => c.id === 'dmarc')?.detail).toContain('sp=quarantine');
    expect(r.verdict).toBe('ready');
  });

  it('sp= is not used for the organisational domain itself', () => {
    expect(parseDmarc(['v=DMARC1; p=reject; sp=none'])).toMatchObject({
      kind: 'found',
      record: { policy: 'reject', subdomainPolicy: 'none' },
    });
    const r = evaluateDomain(facts(['v=DMARC1; p=reject; sp=none; rua=mailto:d@acme-example.com']));
    expect(r.dmarc.policy).toBe('reject');
  });

  it('relaxed alignment: DKIM of the parent domain aligns with a subdomain From', () => {
    const r = evaluateDomain(
      facts(['v=DMARC1; p=reject; rua=mailto:d@acme-example.com'], {
        fromDomain: 'news.acme-example.com',
        dns: { ...facts([]).dns, dmarc: ['v=DMARC1; p=reject; rua=mailto:d@acme-example.com'] },
      }),
    );
    expect(r.dkimAligned).toBe(true);
    expect(r.spfAligned).toBe(true);
    expect(r.verdict).toBe('ready');
  });

  it('strict alignment: the same DKIM and MAIL FROM do not align with a subdomain From, and p=reject blocks', () => {
    const record = 'v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:d@acme-example.com';
    const r = evaluateDomain(
      facts([record], { fromDomain: 'news.acme-example.com', dns: { ...facts([]).dns, dmarc: [record] } }),
    );
    expect(r.dkimAligned).toBe(false);
    expect(r.spfAligned).toBe(false);
    expect(r.verdict).toBe('blocked');
    expect(r.reasons.join(' ')).toContain('p=reject tells receivers to reject it');
    expect(r.checks.find((c) => c.id === 'alignment')?.fix).toContain('adkim=r');
  });

  it('strict alignment with p=none only puts the domain at risk', () => {
    const record = 'v=DMARC1; p=none; adkim=s; aspf=s; rua=mailto:d@acme-example.com';
    const r = evaluateDomain(
      facts([record], { fromDomain: 'news.acme-example.com', dns: { ...facts([]).dns, dmarc: [record] } }),
    );
    expect(r.verdict).toBe('at risk');
    expect(outcome(r, 'alignment')).toBe('risk');
  });

  it('tolerates case, spaces and unknown tags; rejects a bad pct and a record without p or rua', () => {
    expect(parseDmarc(['V=DMARC1;P=Quarantine ; fo=1; ruf=mailto:x@y.z; pct = 20'])).toMatchObject({
      kind: 'found',
      record: { policy: 'quarantine', pct: 20 },
    });
    expect(parseDmarc(['v=DMARC1; p=none; pct=150'])).toMatchObject({ kind: 'invalid' });
    expect(parseDmarc(['v=DMARC1; adkim=s'])).toMatchObject({ kind: 'invalid', reason: 'no policy (p=) tag' });
    expect(parseDmarc(['v=DMARC1; rua=mailto:d@x.example'])).toMatchObject({
      kind: 'found',
      record: { policy: 'none' },
    });
    expect(parseDmarc(['v=spf1 -all'])).toEqual({ kind: 'missing' });
  });

  it('a record without rua is ready with a note', () => {
    const r = evaluateDomain(facts(['v=DMARC1; p=none']));
    expect(r.verdict).toBe('ready');
    expect(outcome(r, 'dmarc-reports')).toBe('note');
  });
});

describe('DKIM, MAIL FROM and SPF', () => {
  const good = ['v=DMARC1; p=none; rua=mailto:d@acme-example.com'];

  it('pending DKIM with no custom MAIL FROM: at risk, and DMARC cannot align', () => {
    const r = evaluateDomain(
      facts(good, {
        identity: identity({
          dkim: { signingEnabled: true, status: 'PENDING', tokens: TOKENS, origin: 'AWS_SES' },
          mailFrom: { domain: null, status: null },
        }),
        dns: { ...facts(good).dns, dkim: [], mailFromTxt: [], mailFromMx: [] },
      }),
    );
    expect(r.verdict).toBe('at risk');
    expect(outcome(r, 'dkim')).toBe('risk');
    expect(outcome(r, 'dkim-dns')).toBe('risk');
    expect(outcome(r, 'mail-from')).toBe('risk');
    expect(outcome(r, 'alignment')).toBe('risk');
    expect(r.reasons[0]).toContain('DKIM is pending in SES');
  });

  it('an SPF record without amazonses.com, and two SPF records, are both at risk', () => {
    const without = evaluateDomain(facts(good, { dns: { ...facts(good).dns, mailFromTxt: ['v=spf1 mx -all'] } }));
    expect(outcome(without, 'spf')).toBe('risk');
    const two = evaluateDomain(
      facts(good, {
        dns: { ...facts(good).dns, mailFromTxt: ['v=spf1 include:amazonses.com ~all', 'v=spf1 mx -all'] },
      }),
    );
    expect(two.reasons.join()).toContain('2 SPF records');
    // DKIM still aligns: DMARC passes, but SPF is still a reason.
    expect(two.dkimAligned).toBe(true);
    expect(two.verdict).toBe('at risk');
  });

  it('a domain SES has not verified is blocked', () => {
    const r = evaluateDomain(facts(good, { identity: identity({ verifiedForSending: false }) }));
    expect(r.verdict).toBe('blocked');
    expect(evaluateDomain(facts(good, { identity: null })).verdict).toBe('blocked');
  });

  it('a failed DNS lookup is a reason, not a pass', () => {
    const r = evaluateDomain(
      facts([], { dns: { ...facts([]).dns, failures: [{ name: '_dmarc.acme-example.com', reason: 'ETIMEOUT' }] } }),
    );
    expect(r.reasons.join()).toContain('could not look up _dmarc.acme-example.com (ETIMEOUT)');
  });

  it('SPF include and organisational domains', () => {
    expect(spfIncludesSes('v=spf1 ip4:192.0.2.1 include:amazonses.com -all')).toBe(true);
    expect(spfIncludesSes('v=spf1 include:notamazonses.com -all')).toBe(false);
    expect(organisationalDomain('mail.news.example.co.uk')).toBe('example.co.uk');
    expect(aligned('example.com', 'bounce.example.com', 'r')).toBe(true);
    expect(aligned('example.com', 'bounce.example.com', 's')).toBe(false);
  });
});

describe('tenant verdict', () => {
  const ready = facts(['v=DMARC1; p=none; rua=mailto:d@acme-example.com']);

  it('is the worst of its domains, with every reason named by domain', () => {
    const t = evaluateTenant({
      tenantId: 'acme',
      domains: [ready, facts([], { domain: 'other-example.com' })],
      complaintRate: 0.001,
      oneClickUnsubscribe: true,
    });
    expect(t.verdict).toBe('at risk');
    expect(t.reasons.some((r) => r.startsWith('other-example.com: no DMARC record'))).toBe(true);
  });

  it("a complaint rate at Gmail's 0.3 % puts a ready tenant at risk", () => {
    const t = evaluateTenant({ tenantId: 'acme', domains: [ready], complaintRate: 0.0031, oneClickUnsubscribe: true });
    expect(t.verdict).toBe('at risk');
    expect(t.reasons).toEqual(["complaint rate 0.31 % is at or above Gmail's 0.3 %"]);
    const fine = evaluateTenant({
      tenantId: 'acme',
      domains: [ready],
      complaintRate: 0.0029,
      oneClickUnsubscribe: true,
    });
    expect(fine.verdict).toBe('ready');
  });

  it('no one-click unsubscribe, or no sending domain', () => {
    expect(
      evaluateTenant({ tenantId: 'a', domains: [ready], complaintRate: null, oneClickUnsubscribe: false }).verdict,
    ).toBe('at risk');
    expect(evaluateTenant({ tenantId: 'a', domains: [], complaintRate: null, oneClickUnsubscribe: true }).verdict).toBe(
      'blocked',
    );
  });
});
