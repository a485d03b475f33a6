import { createHash } from 'node:crypto';

/** Keys longer than this are refused unread (no key sesflow issues comes close). */
export const MAX_API_KEY_LENGTH = 256;

/** The SHA-256 of an API key: the only form a key is stored or looked up in. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The `x-api-key` header's hash, or null when it is missing or too long to be a key. */
export function apiKeyHash(headers: Readonly<Record<string, string | undefined>>): string | null {
  const key = headers['x-api-key'];
  if (!key || key.length > MAX_API_KEY_LENGTH) return null;
  return hashApiKey(key);
}
