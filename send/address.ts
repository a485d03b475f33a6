import { domainToASCII } from 'node:url';
import emailAddresses from 'email-addresses';
import smtpAddressParser from 'smtp-address-parser';

/**
 * The one rule set for addresses and header values on the send path (the Email API's schemas, the sender's
 * from-domain check, the bulk worker's re-validation):
 *
 * - a header value (subject, display name) holds no control character (C0, DEL, C1, so no CR/LF) and no lone
 *   surrogate;
 * - an address is an RFC 5321 mailbox (smtp-address-parser: `a@-.-` and `a@example..org` are refused) that SES takes:
 *   a 7-bit ASCII local part (SES does not support SMTPUTF8), a domain that may be an IDN (sent as Punycode, UTS #46
 *   through `node:url`'s domainToASCII), at most 64 + 255 characters;
 * - a From header is exactly one RFC 5322 mailbox (email-addresses): `Name <address>`, `"Quoted, Name" <address>`
 *   or a bare address; anything after the first mailbox (a second `<…>`, a folded line) is refused.
 *
 * Normalised forms are what SES is given: the domain in Punycode, the display name quoted or, when not ASCII, as a
 * MIME encoded-word (as SES asks for a Unicode "friendly from").
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a header value (a subject, a display name, a replacement used in the subject) is refused; null if it is fine. */
export function headerValueProblem(value: string): string | null {
  if (CONTROL.test(value)) return /[\r\n]/.test(value) ? 'must be one line' : 'must not hold control characters';
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode (a lone surrogate)';
  return null;
}

/** An address in the form SES is given, or the reason it is refused. */
export type AddressCheck = { ok: true; address: string; domain: string } | { ok: false; reason: string };

/** Checks one address (`local@domain`, no display name) and returns it with its domain in Punycode. */
export function checkAddress(raw: string): AddressCheck {
  if (raw.length > 320) return { ok: false, reason: 'is over 320 characters' };
  const problem = headerValueProblem(raw);
  if (problem) return { ok: false, reason: 'is not an email address (control characters)' };
  const at = raw.lastIndexOf('@');
  if (at < 1) return { ok: false, reason: 'is not an email address' };
  const local = raw.slice(0, at);
  const unicodeDomain = raw.slice(at + 1);
  if (!/^[\x20-\x7e]+$/.test(local)) return { ok: false, reason: 'must have an ASCII local part (before the @)' };
  if (local.length > 64) return { ok: false, reason: 'has a local part over 64 characters' };
  // UTS #46: lower-cases and maps the domain, and answers '' for one that cannot be a host name.
  const domain = /^\[.*\]$/.test(unicodeDomain) ? '' : domainToASCII(unicodeDomain);
  if (!domain || domain.length > 253 || !domain.includes('.')) return { ok: false, reason: 'is not an email address' };
  const address = `${local}@${domain}`;
  try {
    smtpAddressParser.parse(address);
  } catch {
    return { ok: false, reason: 'is not an email address' };
  }
  if (domain.split('.').some((label) => label.length > 63)) return { ok: false, reason: 'is not an email address' };
  return { ok: true, address, domain };
}

/** A From header, parsed and normalised: `header` is what SES gets, `address` what the domain check reads. */
export type MailboxCheck =
  | { ok: true; header: string; address: string; domain: string; name: string | null }
  | { ok: false; reason: string };

/** Quotes a display name as RFC 5322 asks, or encodes it as a MIME encoded-word when it is not ASCII. */
function displayName(name: string): string {
  if (!/^[\x20-\x7e]*$/.test(name)) return `=?UTF-8?B?${Buffer.from(name, 'utf8').toString('base64')}?=`;
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(name)) return name;
  return `"${name.replace(/(["\\])/g, '\\$1')}"`;
}

/** Checks a From header: one mailbox, a display name that is a clean header value, an address as `checkAddress`. */
export function checkMailbox(raw: string): MailboxCheck {
  if (raw.length > 640) return { ok: false, reason: 'is over 640 characters' };
  const problem = headerValueProblem(raw);
  if (problem) return { ok: false, reason: problem };
  const parsed = emailAddresses.parseOneAddress({ input: raw, rfc6532: true });
  if (parsed?.type !== 'mailbox') return { ok: false, reason: 'is not an email address' };
  const address = checkAddress(parsed.address);
  if (!address.ok) return address;
  const name = parsed.name?.trim() || null;
  if (name !== null && name.length > 256) return { ok: false, reason: 'has a display name over 256 characters' };
  const header = name === null ? address.address : `${displayName(name)} <${address.address}>`;
  return { ok: true, header, address: address.address, domain: address.domain, name };
}

/**
 * The address a From header sends from, read by the same parser as the validation (never "the first `<…>`"): null
 * when the header is not one valid mailbox.
 */
export function fromAddressOf(from: string): { address: string; domain: string } | null {
  const m = checkMailbox(from);
  return m.ok ? { address: m.address, domain: m.domain } : null;
}

/**
 * The replacement names a template string uses (`{{name}}`, `{{{name}}}`, `{{#if name}}`…): every word inside a
 * mustache, so a value that reaches the subject is checked whatever the expression.
 */
export function templateNames(template: string): Set<string> {
  const names = new Set<string>();
  for (const m of template.matchAll(/\{\{([^}]*)\}\}/g)) {
    for (const word of m[1]!.matchAll(/[A-Za-z0-9_-]+/g)) names.add(word[0]);
  }
  return names;
}
