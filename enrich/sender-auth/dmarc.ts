/**
 * DMARC (RFC 7489) and SPF (RFC 7208) record parsing and identifier alignment: pure functions over the TXT strings
 * DNS returned. Nothing here looks anything up.
 */

/** A DMARC policy: what a receiver does with mail that fails DMARC. */
export type DmarcPolicy = 'none' | 'quarantine' | 'reject';
/** Identifier alignment mode (`adkim`, `aspf`): relaxed (same organisational domain) or strict (same domain). */
export type AlignmentMode = 'r' | 's';

export interface DmarcRecord {
  policy: DmarcPolicy;
  /** `sp`: the policy for subdomains of the domain that published the record (default: `p`). */
  subdomainPolicy: DmarcPolicy;
  /** `pct`: the share of failing mail the policy applies to (0-100, default 100). */
  pct: number;
  /** `rua`: aggregate report addresses. */
  rua: string[];
  adkim: AlignmentMode;
  aspf: AlignmentMode;
  /** The record as published. */
  raw: string;
}

/** The outcome of reading the `_dmarc` TXT records of one name. */
export type DmarcLookup =
  | { kind: 'missing' }
  /** Two or more DMARC records: RFC 7489 §6.6.3 says receivers then apply no DMARC at all. */
  | { kind: 'multiple'; count: number }
  | { kind: 'invalid'; reason: string; raw: string }
  | { kind: 'found'; record: DmarcRecord };

const POLICIES = new Set<DmarcPolicy>(['none', 'quarantine', 'reject']);

/** `k=v; k=v` tags of a DMARC record (names lower-cased; a tag named twice keeps the first, as most receivers do). */
function tagsOf(raw: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (name && !tags.has(name)) tags.set(name, part.slice(eq + 1).trim());
  }
  return tags;
}

/** Whether a TXT string is a DMARC record: it starts with the `v=DMARC1` tag (RFC 7489 §6.4). */
export function isDmarcRecord(txt: string): boolean {
  return /^v\s*=\s*DMARC1\s*(;|$)/i.test(txt.trim());
}

/**
 * Reads the TXT strings found at `_dmarc.<domain>` (each already joined from its character strings). Strings that are
 * not DMARC records are ignored; none is `missing`, two or more `multiple`. A record without a valid `p` but with a
 * `rua` counts as `p=none` (RFC 7489 §6.6.3); without either it is invalid.
 */
export function parseDmarc(txts: readonly string[]): DmarcLookup {
  const records = txts.map((t) => t.trim()).filter(isDmarcRecord);
  if (records.length === 0) return { kind: 'missing' };
  if (records.length > 1) return { kind: 'multiple', count: records.length };
  const raw = records[0]!;
  const tags = tagsOf(raw);
  const rua = (tags.get('rua') ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => /^mailto:[^@\s]+@[^@\s]+$/i.test(u));
  const p = tags.get('p')?.toLowerCase();
  let policy: DmarcPolicy;
  if (p && POLICIES.has(p as DmarcPolicy)) policy = p as DmarcPolicy;
  else if (rua.length > 0) policy = 'none';
  else return { kind: 'invalid', reason: p ? `unknown policy p=${p}` : 'no policy (p=) tag', raw };
  const sp = tags.get('sp')?.toLowerCase();
  if (sp !== undefined && !POLICIES.has(sp as DmarcPolicy)) {
    return { kind: 'invalid', reason: `unknown subdomain policy sp=${sp}`, raw };
  }
  const pctText = tags.get('pct');
  const pct = pctText === undefined ? 100 : Number(pctText);
  if (!Number.isInteger(pct) || pct < 0 || pct > 100) {
    return { kind: 'invalid', reason: `pct=${pctText} is not a whole number from 0 to 100`, raw };
  }
  const mode = (name: 'adkim' | 'aspf'): AlignmentMode | null => {
    const v = tags.get(name)?.toLowerCase() ?? 'r';
    return v === 'r' || v === 's' ? v : null;
  };
  const adkim = mode('adkim');
  const aspf = mode('aspf');
  if (!adkim || !aspf) return { kind: 'invalid', reason: `${adkim ? 'aspf' : 'adkim'} must be r or s`, raw };
  return {
    kind: 'found',
    record: { policy, subdomainPolicy: (sp as DmarcPolicy | undefined) ?? policy, pct, rua, adkim, aspf, raw },
  };
}

/**
 * Second-level labels under which registrations happen one level deeper (`example.co.uk`). A short list of the common
 * ones instead of the whole Public Suffix List: a domain under a suffix not listed here gets its last two labels.
 */
const MULTI_LABEL_SUFFIXES = new Set([
  'co.uk',
  'org.uk',
  'ac.uk',
  'gov.uk',
  'com.au',
  'net.au',
  'org.au',
  'co.nz',
  'co.jp',
  'ne.jp',
  'or.jp',
  'com.br',
  'com.mx',
  'co.in',
  'co.za',
  'com.cn',
  'com.tr',
  'com.sg',
  'co.kr',
]);

/** The organisational domain (RFC 7489 §3.2): the registered domain, e.g. `example.com` for `mail.example.com`. */
export function organisationalDomain(domain: string): string {
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length <= 2) return labels.join('.');
  const lastTwo = labels.slice(-2).join('.');
  return labels.slice(MULTI_LABEL_SUFFIXES.has(lastTwo) ? -3 : -2).join('.');
}

/** Whether `identifier` (the DKIM `d=` or the MAIL FROM domain) aligns with the From domain under `mode`. */
export function aligned(fromDomain: string, identifier: string, mode: AlignmentMode): boolean {
  const a = fromDomain.toLowerCase().replace(/\.$/, '');
  const b = identifier.toLowerCase().replace(/\.$/, '');
  if (mode === 's') return a === b;
  return organisationalDomain(a) === organisationalDomain(b);
}

/** The SPF records (`v=spf1 ...`) among TXT strings; RFC 7208 §4.5: more than one is a permanent error. */
export function spfRecords(txts: readonly string[]): string[] {
  return txts.map((t) => t.trim()).filter((t) => /^v=spf1(\s|$)/i.test(t));
}

/** Whether an SPF record authorises SES: it has the `include:amazonses.com` mechanism (SES's own SPF record). */
export function spfIncludesSes(record: string): boolean {
  return record.split(/\s+/).some((term) => /^[+]?include:amazonses\.com\.?$/i.test(term));
}
