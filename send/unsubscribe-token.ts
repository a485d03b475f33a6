import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ExpiredUnsubscribeTokenError, InvalidUnsubscribeTokenError } from './errors';

/**
 * One-click unsubscribe (RFC 8058) links: the token, and the `List-Unsubscribe` / `List-Unsubscribe-Post` headers
 * that carry it. Pure: the secret and the clock are given.
 */

/** Who unsubscribes from what: the tenant, the recipient, the campaign (for the reports), and until when it holds. */
export interface UnsubscribeClaim {
  tenantId: string;
  recipient: string;
  campaign: string | null;
  /** Expiry, epoch seconds. */
  expiresAt: number;
}

const ClaimSchema = z.object({
  t: z.string().min(1).max(64),
  r: z.string().min(3).max(320),
  c: z.string().max(256).nullable(),
  e: z.number().int().positive(),
});

/** Marketing mail (the `message_kind` tag) gets the headers; Gmail and Yahoo require them of bulk marketing mail. */
export function isMarketing(messageKind: string | undefined): boolean {
  return messageKind?.toLowerCase() === 'marketing';
}

const keyOf = (secret: string) => createHash('sha256').update(`sesflow-unsubscribe:${secret}`).digest();

/**
 * The token: AES-256-GCM over the claim, base64url (`iv | ciphertext | tag`). The GCM tag signs it (a changed byte
 * fails), and the recipient's address is not readable in the URL, so proxies and access logs never see it.
 */
export function sealUnsubscribeToken(claim: UnsubscribeClaim, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), iv);
  const body = JSON.stringify({ t: claim.tenantId, r: claim.recipient, c: claim.campaign, e: claim.expiresAt });
  const data = Buffer.concat([cipher.update(body, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, data, cipher.getAuthTag()]).toString('base64url');
}

/** Opens a token: its claim, or InvalidUnsubscribeTokenError / ExpiredUnsubscribeTokenError (one line each). */
export function openUnsubscribeToken(token: string, secret: string, nowMs: number): UnsubscribeClaim {
  const raw = /^[A-Za-z0-9_-]{40,1200}$/.test(token) ? Buffer.from(token, 'base64url') : null;
  if (!raw || raw.length < 12 + 16 + 2) throw new InvalidUnsubscribeTokenError('the unsubscribe link is not valid');
  let text: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    text = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    throw new InvalidUnsubscribeTokenError('the unsubscribe link is not valid');
  }
  let parsed: z.infer<typeof ClaimSchema>;
  try {
    parsed = ClaimSchema.parse(JSON.parse(text));
  } catch {
    throw new InvalidUnsubscribeTokenError('the unsubscribe link is not valid');
  }
  if (parsed.e * 1000 <= nowMs) throw new ExpiredUnsubscribeTokenError('the unsubscribe link has expired');
  return { tenantId: parsed.t, recipient: parsed.r, campaign: parsed.c, expiresAt: parsed.e };
}

/** Where the links point and how long they hold. */
export interface UnsubscribeLinkConfig {
  /** The HTTPS URL of the one-click endpoint (`.../v1/unsubscribe`); the token goes in its `token` parameter. */
  url: string;
  secret: string;
  /** Also a `mailto:` unsubscribe address, when configured. */
  mailto: string | null;
  /** How long a link holds (days). */
  ttlDays: number;
}

/** The headers of one recipient's marketing message (SESv2 MessageHeader shape). */
export function listUnsubscribeHeaders(
  cfg: UnsubscribeLinkConfig,
  c: { tenantId: string; recipient: string; campaign: string | null },
  nowMs: number,
): { Name: string; Value: string }[] {
  const token = sealUnsubscribeToken(
    { ...c, expiresAt: Math.floor(nowMs / 1000) + Math.round(cfg.ttlDays * 86_400) },
    cfg.secret,
  );
  const url = new URL(cfg.url);
  url.searchParams.set('token', token);
  const links = [`<${url.toString()}>`];
  if (cfg.mailto) links.push(`<mailto:${cfg.mailto}?subject=unsubscribe%20${token}>`);
  return [
    { Name: 'List-Unsubscribe', Value: links.join(', ') },
    // RFC 8058 §3.1: the POST body a receiver sends to the HTTPS URI.
    { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
  ];
}
