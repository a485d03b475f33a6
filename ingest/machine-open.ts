/**
 * Machine opens: opens (and clicks) made by a proxy or scanner rather than by a person.
 *
 * Rules, in order; the first that matches names the reason:
 * 1. `no-user-agent`: no user agent at all (people's mail clients always send one).
 * 2. `apple-mail-privacy`: Apple Mail Privacy Protection prefetches every image through Apple's proxy with the bare
 *    user agent `Mozilla/5.0` and nothing else; a real browser or mail client always adds platform tokens.
 * 3. `google-image-proxy`: Gmail fetches images through `GoogleImageProxy` (`via ggpht.com`). Gmail caches the image,
 *    so the first fetch may follow a person opening the mail, but later opens are invisible: the signal is not
 *    human-attributable and is treated as machine, as the peers do.
 * 4. `yahoo-mail-proxy`: Yahoo's image proxy, same reasoning.
 * 5. `security-scanner`: link and attachment scanners (Barracuda, Mimecast, Proofpoint, Microsoft Safe Links,
 *    Symantec/MessageLabs, Trend Micro, Sophos, Cisco/IronPort, FireEye, Fortinet, Forcepoint) and generic HTTP
 *    clients and crawlers (curl, wget, python-requests, Go-http-client, Java, okhttp, axios, HeadlessChrome, bots).
 * 6. `prefetch-on-delivery`: the event happened within {@link PREFETCH_WINDOW_MS} of the message being sent. A
 *    person cannot open a message seconds after it was sent; gateways that fetch on delivery can. Delivery is
 *    always after the send, so "within N seconds of the send" is a subset of "within N seconds of delivery".
 */
export const PREFETCH_WINDOW_MS = 5_000;

const UA_RULES: readonly { reason: string; pattern: RegExp }[] = [
  { reason: 'apple-mail-privacy', pattern: /^Mozilla\/5\.0$/ },
  { reason: 'google-image-proxy', pattern: /GoogleImageProxy|via ggpht\.com/i },
  { reason: 'yahoo-mail-proxy', pattern: /YahooMailProxy/i },
  {
    reason: 'security-scanner',
    pattern:
      /Barracuda|Mimecast|Proofpoint|SafeLinks|Symantec|MessageLabs|Trend ?Micro|Sophos|IronPort|FireEye|Fortinet|Forcepoint|curl\/|Wget|python-requests|python-urllib|Go-http-client|\bJava\/|okhttp|axios|node-fetch|libwww|HeadlessChrome|PhantomJS|\bbot\b|crawler|spider|scanner/i,
  },
];

/**
 * Says why an open or click looks machine-made, or null when it looks human.
 * @param userAgent the event's user agent
 * @param eventTimeMs the open or click time
 * @param mailTimeMs when SES accepted the message, if known
 */
export function classifyMachineOpen(
  userAgent: string | null | undefined,
  eventTimeMs: number,
  mailTimeMs: number | null,
): string | null {
  const ua = userAgent?.trim() ?? '';
  if (ua === '') return 'no-user-agent';
  for (const rule of UA_RULES) if (rule.pattern.test(ua)) return rule.reason;
  if (mailTimeMs !== null && eventTimeMs - mailTimeMs >= 0 && eventTimeMs - mailTimeMs < PREFETCH_WINDOW_MS) {
    return 'prefetch-on-delivery';
  }
  return null;
}
