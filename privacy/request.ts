import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { MIN_ERASURE_KEY_LENGTH } from './config';
import { ErasureRequestError } from './errors';

/**
 * An address as an erasure request names it: one mailbox (`local@domain`), no display name, no spaces, quotes,
 * angle brackets or backslashes (none of which a stored recipient holds). Compared case-insensitively: a person
 * asking to be forgotten as `Ann@Example.org` means the rows of `ann@example.org` too.
 */
export const ErasureAddressSchema = z
  .string()
  .trim()
  .min(3)
  .max(254)
  .regex(/^[^\s@<>"\\,;]+@[^\s@<>"'\\,;]+\.[^\s@<>"'\\,;]+$/, 'not an email address (local@domain)')
  .transform((s) => s.toLowerCase());

export const ErasureRequestSchema = z.object({
  address: ErasureAddressSchema,
  /** Only this tenant's data (the request came through one tenant, the controller); absent: every tenant. */
  tenant: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'not a tenant id')
    .optional(),
  /** Why (ticket, article of law): kept in the audit beside the address's digest. */
  reason: z.string().trim().min(3, 'a reason is required (at least 3 characters)').max(500),
  /** Who asked (a compliance key's name, an operator's login). */
  requestedBy: z.string().trim().min(1).max(200),
});
export type ErasureRequest = z.infer<typeof ErasureRequestSchema>;

/** Validates a request; a bad one is one line naming the field, never echoing the value. */
export function parseErasureRequest(input: unknown): ErasureRequest {
  const r = ErasureRequestSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ErasureRequestError(`${issue.path.join('.') || 'request'}: ${issue.message}`);
  }
  return r.data;
}

/**
 * The keyed one-way functions of an erasure. Every replacement is an HMAC-SHA-256 under the deployment's erasure key,
 * so nobody without the key can test a guessed address against the lake, and the same address always gets the same
 * pseudonym (a second erasure changes nothing; counts over (message, recipient) pairs stay exact).
 */
export class Pseudonymiser {
  constructor(private readonly key: string) {
    if (key.length < MIN_ERASURE_KEY_LENGTH) {
      throw new ErasureRequestError(`the erasure key must be at least ${MIN_ERASURE_KEY_LENGTH} characters`);
    }
  }

  private mac(label: string, value: string): string {
    return createHmac('sha256', this.key).update(`${label}\u001f${value}`).digest('hex');
  }

  /**
   * What replaces a stored recipient value: `erased:` and 32 hex digits, 24 from the address (any case) and 8 from the
   * exact value, so two stored spellings of one address stay two pairs (a unique-open count never drops by one). It
   * has no `@`, so it is never taken for an address, and `recipient_domain` is kept as it was (the domain reports).
   */
  recipient(stored: string): string {
    return `erased:${this.mac('recipient', stored.toLowerCase()).slice(0, 24)}${this.mac('exact', stored).slice(0, 8)}`;
  }

  /** What replaces the address inside free text (a diagnostic code, a link, a raw error record). */
  text(address: string): string {
    return `erased:${this.mac('recipient', address.toLowerCase()).slice(0, 24)}`;
  }

  /**
   * A new event id for a row of the erased address. Event ids are digests of the message, type, address and time:
   * kept, they would let anyone who knows a message id confirm a guessed address. The new id has the same form (32 hex
   * digits) and is a function of the old one, so copies of one event keep one id and the `events` view still counts
   * them once.
   */
  eventId(old: string): string {
    return this.mac('event', old).slice(0, 32);
  }

  /** What the audit keeps instead of the address: a keyed digest, to answer "was this address erased?". */
  auditDigest(address: string): string {
    return `hmac-sha256:${this.mac('audit', address.toLowerCase())}`;
  }
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/-]/g;

/** The forms an address takes in text: as is, and URL-encoded (`%40`), as links and query strings carry it. */
export function addressForms(address: string): string[] {
  const forms = new Set([address.toLowerCase(), encodeURIComponent(address).toLowerCase()]);
  return [...forms];
}

/** A case-insensitive global pattern matching any form of the address. */
export function addressPattern(address: string): RegExp {
  return new RegExp(
    addressForms(address)
      .map((f) => f.replace(REGEX_SPECIAL, '\\$&'))
      .join('|'),
    'gi',
  );
}

/** Whether the text holds the address in any form, any case. */
export function holdsAddress(text: string, address: string): boolean {
  const lower = text.toLowerCase();
  return addressForms(address).some((f) => lower.includes(f));
}

/** The text with every form of the address replaced. */
export function scrubText(text: string, address: string, replacement: string): string {
  return text.replace(addressPattern(address), replacement);
}
