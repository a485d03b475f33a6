import { TimeHeap } from './min-heap';
import { cumulativeOf, pickCumulative, SeededRandom } from './seeded-random';

/**
 * The traffic model: a seeded, per-recipient-domain deliverability model and a generator of SES event-publishing
 * records in the exact JSON shape SES writes to Firehose (aws-facts §1; ../shared/ses-events/*.json).
 *
 * Two users share it:
 * - `generateTraffic()` streams synthetic records for N tenants and M messages (`sesflow simulate`, benchmarks);
 * - the SES simulator calls `simulateOutcomes()` for every accepted send and `SesRecordFactory` to shape the records.
 *
 * Everything is pure: the same seed and options give the same records, byte for byte.
 */

export { SeededRandom } from './seeded-random';

/** The mailbox simulator's domain (aws-facts §2.7). */
export const SIMULATOR_DOMAIN = 'simulator.amazonses.com';

/** Which family of mail servers answers for a domain: it decides the wording of SMTP responses and DSNs. */
export type MailboxProvider = 'gmail' | 'microsoft' | 'yahoo' | 'apple' | 'gmx' | 'corporate' | 'isp';

/**
 * What happens to mail sent to one recipient domain, as probabilities per recipient (a good sender's baseline).
 * Bounce and delivery outcomes are exclusive: hard bounce, soft bounce, undetermined bounce, else delivered.
 */
export interface DomainProfile {
  domain: string;
  provider: MailboxProvider;
  /** Relative share of recipients in the default mix. */
  weight: number;
  /** Permanent bounce (user unknown, mailbox disabled). */
  hardBounce: number;
  /** Transient bounce after SES gave up retrying (preceded by DeliveryDelay events). */
  softBounce: number;
  /** `Undetermined` bounce without DSN fields. */
  undetermined: number;
  /** Of delivered mail: delivered late, after one DeliveryDelay event. */
  delay: number;
  /**
   * Of delivered mail: a complaint through the provider's feedback loop. Zero for providers without a feedback loop
   * to SES (Gmail sends no complaint data to SES, aws-facts §2.4).
   */
  complaint: number;
  /** Of delivered mail: a person opens it (at least once). */
  open: number;
  /** Of delivered mail: Apple Mail Privacy Protection prefetches it (an open with the bare `Mozilla/5.0` agent). */
  appleMppShare: number;
  /** Human opens arrive through the provider's image proxy (GoogleImageProxy, YahooMailProxy). */
  imageProxy: boolean;
  /** Of people who opened: they click a link. */
  click: number;
  /** Of delivered mail: a security gateway follows every link on arrival (corporate domains). */
  scannerClick: number;
}

/** How a sender (tenant) differs from the baseline. */
export interface SenderBehaviour {
  /** Replaces every domain's hard bounce probability (a bad list: e.g. 0.08). */
  hardBounceRate?: number;
  /** Multiplies the domain hard bounce probability when `hardBounceRate` is not set (default 1). */
  bounceMultiplier?: number;
  /** Replaces the complaint probability on domains that have a feedback loop (complaint > 0). */
  complaintRate?: number;
  /** Multiplies open and click probabilities (default 1). */
  engagement?: number;
}

/** Per message kind, how engagement and complaints differ (marketing gets fewer opens and more complaints). */
export interface KindFactors {
  open: number;
  complaint: number;
}

export interface TrafficModel {
  domains: readonly DomainProfile[];
  /** The profile of a domain the model does not list. */
  fallback: Omit<DomainProfile, 'domain' | 'weight'>;
  /** Share of generated messages addressed to the mailbox simulator (kept small: it is test traffic). */
  simulatorShare: number;
  /** Share of generated messages with 2–3 recipients (the rest have one). */
  multiRecipientShare: number;
  kindFactors: Readonly<Record<string, KindFactors>>;
}

const d = (
  domain: string,
  provider: MailboxProvider,
  weight: number,
  p: Omit<DomainProfile, 'domain' | 'provider' | 'weight'>,
): DomainProfile => ({ domain, provider, weight, ...p });

const GMAIL = {
  hardBounce: 0.006,
  softBounce: 0.003,
  undetermined: 0.0005,
  delay: 0.01,
  complaint: 0,
  open: 0.3,
  appleMppShare: 0.03,
  imageProxy: true,
  click: 0.14,
  scannerClick: 0,
};
const MICROSOFT = {
  hardBounce: 0.01,
  softBounce: 0.006,
  undetermined: 0.0005,
  delay: 0.03,
  complaint: 0.0006,
  open: 0.2,
  appleMppShare: 0.04,
  imageProxy: false,
  click: 0.1,
  scannerClick: 0,
};
const YAHOO = {
  hardBounce: 0.012,
  softBounce: 0.008,
  undetermined: 0.001,
  delay: 0.04,
  complaint: 0.0008,
  open: 0.18,
  appleMppShare: 0.04,
  imageProxy: true,
  click: 0.08,
  scannerClick: 0,
};
const APPLE = {
  hardBounce: 0.005,
  softBounce: 0.004,
  undetermined: 0.0005,
  delay: 0.01,
  complaint: 0,
  open: 0.3,
  appleMppShare: 0.85,
  imageProxy: false,
  click: 0.12,
  scannerClick: 0,
};
const ISP = {
  hardBounce: 0.012,
  softBounce: 0.006,
  undetermined: 0.001,
  delay: 0.03,
  complaint: 0.0005,
  open: 0.17,
  appleMppShare: 0.2,
  imageProxy: false,
  click: 0.08,
  scannerClick: 0,
};
const GMX = { ...ISP, hardBounce: 0.009, complaint: 0.0003, open: 0.2, appleMppShare: 0.05 };
const CORPORATE = {
  hardBounce: 0.015,
  softBounce: 0.004,
  undetermined: 0.001,
  delay: 0.02,
  complaint: 0.0001,
  open: 0.25,
  appleMppShare: 0.05,
  imageProxy: false,
  click: 0.1,
  scannerClick: 0.35,
};

/** The default recipient mix: large mailbox providers plus corporate domains (Microsoft sample company names). */
export const DEFAULT_DOMAINS: readonly DomainProfile[] = [
  d('gmail.com', 'gmail', 30, GMAIL),
  d('googlemail.com', 'gmail', 1, GMAIL),
  d('outlook.com', 'microsoft', 8, MICROSOFT),
  d('hotmail.com', 'microsoft', 7, { ...MICROSOFT, hardBounce: 0.013, open: 0.17 }),
  d('live.com', 'microsoft', 2, { ...MICROSOFT, hardBounce: 0.015, open: 0.15 }),
  d('yahoo.com', 'yahoo', 9, YAHOO),
  d('aol.com', 'yahoo', 2, { ...YAHOO, hardBounce: 0.018, complaint: 0.001, open: 0.14 }),
  d('icloud.com', 'apple', 7, APPLE),
  d('me.com', 'apple', 1, { ...APPLE, hardBounce: 0.009 }),
  d('comcast.net', 'isp', 2, ISP),
  d('orange.fr', 'isp', 1, ISP),
  d('gmx.de', 'gmx', 2, GMX),
  d('web.de', 'gmx', 1, GMX),
  d('contoso.com', 'corporate', 4, CORPORATE),
  d('fabrikam.com', 'corporate', 3, CORPORATE),
  d('northwindtraders.com', 'corporate', 2, CORPORATE),
  d('adventure-works.com', 'corporate', 2, { ...CORPORATE, scannerClick: 0.6 }),
  d('wingtiptoys.com', 'corporate', 2, { ...CORPORATE, hardBounce: 0.02, scannerClick: 0.1 }),
];

/** Builds a model, defaults first, with the given parts replaced. */
export function createTrafficModel(overrides: Partial<TrafficModel> = {}): TrafficModel {
  return {
    domains: DEFAULT_DOMAINS,
    fallback: { provider: 'isp', ...ISP },
    simulatorShare: 0.002,
    multiRecipientShare: 0.02,
    kindFactors: { transactional: { open: 1.3, complaint: 0.3 }, marketing: { open: 0.8, complaint: 1.5 } },
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Outcomes: what happens to one message, recipient by recipient (pure; the SES simulator and the generator share it)
// ---------------------------------------------------------------------------------------------------------------

/** One later event for one recipient, `afterMs` after the send (unscaled model time). */
export type Outcome =
  | { kind: 'delivery'; recipient: string; afterMs: number; processingMs: number }
  | {
      kind: 'bounce';
      recipient: string;
      afterMs: number;
      bounceType: 'Permanent' | 'Transient' | 'Undetermined';
      bounceSubType: string;
      /** DSN fields; absent for an Undetermined bounce. */
      status?: string;
      diagnosticCode?: string;
      reportingMta?: string;
    }
  | {
      kind: 'delay';
      recipient: string;
      afterMs: number;
      delayType: string;
      status: string;
      diagnosticCode: string;
      expiresAfterMs: number;
    }
  | {
      kind: 'complaint';
      recipient: string;
      afterMs: number;
      feedbackType: string;
      userAgent: string;
      subType: string | null;
    }
  | { kind: 'open'; recipient: string; afterMs: number; userAgent: string; ip: string }
  | { kind: 'click'; recipient: string; afterMs: number; userAgent: string; ip: string; link: string };

/** What `simulateOutcomes` needs to know about a message. */
export interface SimMessage {
  recipients: readonly string[];
  sender?: SenderBehaviour;
  /** `transactional` or `marketing` (the `message_kind` tag); other values use factor 1. */
  messageKind?: string;
  /** Links in the message; clicks pick one. */
  links?: readonly string[];
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** Complaints and opens can come days later; the model stops at three. */
const MAX_LATE_MS = 72 * HOUR;

const HUMAN_AGENTS: Record<MailboxProvider | 'browser', readonly string[]> = {
  gmail: [
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  ],
  microsoft: [
    'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  ],
  yahoo: [
    'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36',
  ],
  apple: [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)',
  ],
  gmx: ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0'],
  corporate: [
    'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  ],
  isp: [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  ],
  browser: [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  ],
};

/** Apple Mail Privacy Protection fetches images with exactly this user agent (ingest/machine-open.ts). */
export const APPLE_MPP_USER_AGENT = 'Mozilla/5.0';
export const GOOGLE_IMAGE_PROXY_USER_AGENT =
  'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';
export const YAHOO_PROXY_USER_AGENT = 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html';
const SCANNER_AGENTS = [
  'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))',
  'Mimecast URL Protect',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.71 Safari/537.36',
];

function ipIn(rng: SeededRandom, prefix: string): string {
  return `${prefix}.${rng.range(0, 255)}.${rng.range(1, 254)}`;
}
const HUMAN_IP_PREFIXES = ['73.162', '98.207', '24.17', '82.132', '86.153', '92.184', '174.65', '176.10'];

interface BounceText {
  status: string;
  code: (addr: string, rng: SeededRandom) => string;
}

const HARD_BOUNCES: Record<MailboxProvider, readonly BounceText[]> = {
  gmail: [
    {
      status: '5.1.1',
      code: (_a, rng) =>
        `smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more information, go to 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser ${rng.hex(12)}.${rng.range(100, 999)} - gsmtp`,
    },
  ],
  microsoft: [
    {
      status: '5.5.0',
      code: (_a, rng) =>
        `smtp; 550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [${rng.pick(['BN8NAM11FT052', 'DM6NAM12FT014', 'CO1PEPF000044F7'])}.eop-nam${rng.range(10, 12)}.prod.protection.outlook.com]`,
    },
  ],
  yahoo: [
    {
      status: '5.0.0',
      code: (a, rng) =>
        `smtp; 554 delivery error: dd Sorry your message to ${a} cannot be delivered. This mailbox is disabled (554.30). - mta${rng.range(1000, 9999)}.mail.gq1.yahoo.com`,
    },
    {
      status: '5.0.0',
      code: (a, rng) =>
        `smtp; 554 delivery error: dd This user doesn't have a ${a.slice(a.indexOf('@') + 1)} account (${a}) [0] - mta${rng.range(1000, 9999)}.mail.bf1.yahoo.com`,
    },
  ],
  apple: [{ status: '5.1.1', code: (a) => `smtp; 550 5.1.1 <${a}>: user does not exist` }],
  gmx: [{ status: '5.0.0', code: () => 'smtp; 550 Requested action not taken: mailbox unavailable' }],
  corporate: [
    {
      status: '5.1.1',
      code: (a) => `smtp; 550 5.1.1 <${a}>: Recipient address rejected: User unknown in virtual mailbox table`,
    },
    {
      status: '5.4.1',
      code: (_a, rng) =>
        `smtp; 550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [${rng.pick(['SN1PEPF0002636B', 'BY2PEPF0000AB87'])}.namprd${rng.range(10, 20)}.prod.outlook.com]`,
    },
  ],
  isp: [{ status: '5.1.1', code: (a) => `smtp; 550 5.1.1 <${a}>... User unknown` }],
};

/** Soft bounce subtypes (aws-facts §1.3) with their share and wording; the delay type SES reports while retrying. */
const SOFT_BOUNCES: readonly { subType: string; share: number; delayType: string; text: BounceText }[] = [
  {
    subType: 'MailboxFull',
    share: 0.4,
    delayType: 'MailboxFull',
    text: { status: '5.2.2', code: (a) => `smtp; 552 5.2.2 <${a}>: Mailbox full` },
  },
  {
    subType: 'General',
    share: 0.4,
    delayType: 'TransientCommunicationFailure',
    text: { status: '4.4.7', code: () => 'smtp; 451 4.4.7 Message delivery time exceeded (retry timeout)' },
  },
  {
    subType: 'MessageTooLarge',
    share: 0.05,
    delayType: 'General',
    text: { status: '5.3.4', code: () => 'smtp; 552 5.3.4 Message size exceeds fixed maximum message size' },
  },
  {
    subType: 'ContentRejected',
    share: 0.1,
    delayType: 'SpamDetected',
    text: { status: '5.7.1', code: () => 'smtp; 554 5.7.1 Message rejected because of unacceptable content' },
  },
  {
    subType: 'AttachmentRejected',
    share: 0.05,
    delayType: 'General',
    text: {
      status: '5.7.0',
      code: () => 'smtp; 552 5.7.0 This message was blocked because its content presents a potential security issue.',
    },
  },
];
const SOFT_CUMULATIVE = cumulativeOf(SOFT_BOUNCES.map((s) => s.share));

const DELAY_TEXT: Record<string, BounceText> = {
  MailboxFull: {
    status: '4.2.2',
    code: () => 'smtp; 452 4.2.2 The email account that you tried to reach is over quota.',
  },
  TransientCommunicationFailure: {
    status: '4.4.2',
    code: () => 'smtp; 421 4.4.2 Connection dropped due to timeout',
  },
  SpamDetected: {
    status: '4.7.0',
    code: (_a, rng) =>
      `smtp; 421 4.7.0 [TSS04] Messages from ${ipIn(rng, '54.240')} temporarily deferred due to unexpected volume or user complaints`,
  },
  RecipientServerError: {
    status: '4.3.0',
    code: () => 'smtp; 451 4.3.0 Temporary server error. Please try again later',
  },
  General: { status: '4.0.0', code: () => 'smtp; 450 4.0.0 Requested mail action not taken: try again later' },
};

const MTA_NAMES = ['a8-12', 'a8-30', 'a8-70', 'a48-30', 'a48-93', 'a11-45'];
function sesMta(rng: SeededRandom): string {
  return `${rng.pick(MTA_NAMES)}.smtp-out.amazonses.com`;
}

/** The SES wording of a bounce for an address on the account or tenant suppression list (aws-facts §1.3). */
export function suppressionBounce(recipient: string, scope: 'ACCOUNT' | 'TENANT'): Outcome {
  return {
    kind: 'bounce',
    recipient,
    afterMs: 50,
    bounceType: 'Permanent',
    bounceSubType: scope === 'TENANT' ? 'OnTenantSuppressionList' : 'OnAccountSuppressionList',
    status: '5.1.1',
    diagnosticCode:
      scope === 'TENANT'
        ? 'Amazon SES did not send the message to this address because it is on the suppression list for your tenant.'
        : 'Amazon SES did not send the message to this address because it is on the suppression list for your account.',
    reportingMta: 'dns; amazonses.com',
  };
}

/** What the mailbox simulator does with an address (aws-facts §2.7); labels (`bounce+x@`) are ignored. */
export function simulatorScenario(recipient: string): 'success' | 'bounce' | 'ooto' | 'complaint' | 'suppressionlist' {
  const local = recipient.slice(0, recipient.lastIndexOf('@')).toLowerCase();
  const base = local.split('+')[0] ?? '';
  if (base === 'bounce' || base === 'ooto' || base === 'complaint' || base === 'suppressionlist') return base;
  return 'success';
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

function simulatorOutcomes(recipient: string, rng: SeededRandom, out: Outcome[]): void {
  const scenario = simulatorScenario(recipient);
  const deliveredAt = rng.range(800, 2500);
  switch (scenario) {
    case 'bounce':
      out.push({
        kind: 'bounce',
        recipient,
        afterMs: deliveredAt,
        bounceType: 'Permanent',
        bounceSubType: 'General',
        status: '5.1.1',
        diagnosticCode: 'smtp; 550 5.1.1 user unknown',
        reportingMta: `dns; ${sesMta(rng)}`,
      });
      return;
    case 'suppressionlist':
      // "as if the recipient's address is on the global suppression list": SES's global-list wording.
      out.push({
        kind: 'bounce',
        recipient,
        afterMs: rng.range(50, 300),
        bounceType: 'Permanent',
        bounceSubType: 'Suppressed',
        status: '5.1.1',
        diagnosticCode:
          'Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address. For more information about how to remove an address from the suppression list, see the Amazon SES Developer Guide: http://docs.aws.amazon.com/ses/latest/DeveloperGuide/remove-from-suppressionlist.html ',
        reportingMta: 'dns; amazonses.com',
      });
      return;
    case 'complaint':
      out.push({ kind: 'delivery', recipient, afterMs: deliveredAt, processingMs: deliveredAt });
      out.push({
        kind: 'complaint',
        recipient,
        afterMs: deliveredAt + rng.range(1000, 5000),
        feedbackType: 'abuse',
        userAgent: 'Amazon SES Mailbox Simulator',
        subType: null,
      });
      return;
    default:
      // success, and ooto: delivered; the auto-reply goes to the MAIL FROM address and is mail, not an event.
      out.push({ kind: 'delivery', recipient, afterMs: deliveredAt, processingMs: deliveredAt });
  }
}

/**
 * Draws what happens to every recipient of one message: delivery or a bounce (with DeliveryDelay events first for
 * late deliveries and soft bounces), then complaints, opens (Apple MPP prefetches, image-proxy and human opens) and
 * clicks. Mailbox-simulator addresses behave as SES documents, whatever the model says. The Send event itself is
 * not an outcome (it is immediate). Suppression is the caller's business (see {@link suppressionBounce}).
 */
export function simulateOutcomes(message: SimMessage, model: TrafficModel, rng: SeededRandom): Outcome[] {
  const out: Outcome[] = [];
  const sender = message.sender ?? {};
  const kf = model.kindFactors[message.messageKind ?? ''] ?? { open: 1, complaint: 1 };
  const engagement = sender.engagement ?? 1;
  const byDomain = domainIndex(model);
  for (const recipient of message.recipients) {
    const domain = domainOf(recipient);
    if (domain === SIMULATOR_DOMAIN) {
      simulatorOutcomes(recipient, rng, out);
      continue;
    }
    const p = byDomain.get(domain) ?? model.fallback;
    const hard = sender.hardBounceRate ?? p.hardBounce * (sender.bounceMultiplier ?? 1);
    const u = rng.next();
    if (u < hard) {
      const text = rng.pick(HARD_BOUNCES[p.provider]);
      out.push({
        kind: 'bounce',
        recipient,
        afterMs: Math.round(rng.logNormal(2.5 * SECOND, 0.7)),
        bounceType: 'Permanent',
        bounceSubType: rng.chance(0.85) ? 'General' : 'NoEmail',
        status: text.status,
        diagnosticCode: text.code(recipient, rng),
        reportingMta: `dns; ${sesMta(rng)}`,
      });
      continue;
    }
    if (u < hard + p.softBounce) {
      const soft = SOFT_BOUNCES[pickCumulative(SOFT_CUMULATIVE, rng)]!;
      const giveUpMs = Math.round(rng.range(2, 14) * HOUR + rng.next() * HOUR);
      const delays = rng.range(1, 3);
      const delayText = DELAY_TEXT[soft.delayType] ?? DELAY_TEXT.General!;
      for (let i = 0; i < delays; i++) {
        out.push({
          kind: 'delay',
          recipient,
          afterMs: Math.round(((i + 1) * giveUpMs) / (delays + 2) + rng.next() * MINUTE),
          delayType: soft.delayType,
          status: delayText.status,
          diagnosticCode: delayText.code(recipient, rng),
          expiresAfterMs: giveUpMs,
        });
      }
      out.push({
        kind: 'bounce',
        recipient,
        afterMs: giveUpMs,
        bounceType: 'Transient',
        bounceSubType: soft.subType,
        status: soft.text.status,
        diagnosticCode: soft.text.code(recipient, rng),
        reportingMta: `dns; ${sesMta(rng)}`,
      });
      continue;
    }
    if (u < hard + p.softBounce + p.undetermined) {
      out.push({
        kind: 'bounce',
        recipient,
        afterMs: Math.round(rng.logNormal(20 * SECOND, 1)),
        bounceType: 'Undetermined',
        bounceSubType: 'Undetermined',
      });
      continue;
    }
    // Delivered, on time or after a DeliveryDelay.
    let deliveredAt: number;
    if (rng.chance(p.delay)) {
      const firstTry = Math.round(rng.range(5, 15) * MINUTE);
      deliveredAt = firstTry + Math.round(rng.logNormal(40 * MINUTE, 0.9));
      const delayType = rng.pick(['TransientCommunicationFailure', 'RecipientServerError', 'SpamDetected', 'General']);
      const t = DELAY_TEXT[delayType]!;
      out.push({
        kind: 'delay',
        recipient,
        afterMs: firstTry,
        delayType,
        status: t.status,
        diagnosticCode: t.code(recipient, rng),
        expiresAfterMs: 14 * HOUR,
      });
    } else {
      deliveredAt = Math.max(300, Math.round(rng.logNormal(1.8 * SECOND, 0.6)));
    }
    out.push({ kind: 'delivery', recipient, afterMs: deliveredAt, processingMs: deliveredAt });

    const complaintP = p.complaint > 0 ? (sender.complaintRate ?? p.complaint * kf.complaint) : 0;
    if (complaintP > 0 && rng.chance(complaintP)) {
      const r = rng.next();
      out.push({
        kind: 'complaint',
        recipient,
        afterMs: Math.min(MAX_LATE_MS, deliveredAt + Math.round(rng.logNormal(2 * HOUR, 1.3))),
        feedbackType: r < 0.93 ? 'abuse' : r < 0.97 ? 'other' : r < 0.99 ? 'fraud' : 'not-spam',
        userAgent: complaintAgent(p.provider),
        subType: null,
      });
    }
    if (p.appleMppShare > 0 && rng.chance(p.appleMppShare)) {
      out.push({
        kind: 'open',
        recipient,
        afterMs: deliveredAt + Math.round(rng.range(20, 900) * SECOND),
        userAgent: APPLE_MPP_USER_AGENT,
        ip: ipIn(rng, rng.pick(['104.28', '172.225', '17.58'])),
      });
    }
    const links = message.links;
    if (links && links.length > 0 && p.scannerClick > 0 && rng.chance(p.scannerClick)) {
      const at = deliveredAt + Math.round(rng.range(1, 20) * SECOND);
      const ua = rng.pick(SCANNER_AGENTS);
      const ip = ipIn(rng, rng.pick(['64.235', '205.139', '52.101']));
      for (const link of links)
        out.push({ kind: 'click', recipient, afterMs: at + rng.range(0, 2000), userAgent: ua, ip, link });
    }
    if (rng.chance(Math.min(1, p.open * engagement * kf.open))) {
      const opensAt = Math.min(MAX_LATE_MS, deliveredAt + Math.round(rng.logNormal(50 * MINUTE, 1.4)));
      const proxied = p.imageProxy && rng.chance(0.85);
      const userAgent = proxied
        ? p.provider === 'yahoo'
          ? YAHOO_PROXY_USER_AGENT
          : GOOGLE_IMAGE_PROXY_USER_AGENT
        : rng.pick(HUMAN_AGENTS[p.provider]);
      const ip = proxied
        ? ipIn(rng, p.provider === 'yahoo' ? '74.6' : '66.249')
        : ipIn(rng, rng.pick(HUMAN_IP_PREFIXES));
      out.push({ kind: 'open', recipient, afterMs: opensAt, userAgent, ip });
      if (rng.chance(0.25)) {
        out.push({
          kind: 'open',
          recipient,
          afterMs: Math.min(MAX_LATE_MS, opensAt + Math.round(rng.logNormal(3 * HOUR, 1.2))),
          userAgent,
          ip,
        });
      }
      if (links && links.length > 0 && rng.chance(Math.min(1, p.click * engagement))) {
        const browserIp = proxied ? ipIn(rng, rng.pick(HUMAN_IP_PREFIXES)) : ip;
        out.push({
          kind: 'click',
          recipient,
          afterMs: opensAt + Math.round(rng.logNormal(25 * SECOND, 0.8)),
          userAgent: rng.pick(HUMAN_AGENTS.browser),
          ip: browserIp,
          link: rng.pick(links),
        });
      }
    }
  }
  return out;
}

function complaintAgent(provider: MailboxProvider): string {
  switch (provider) {
    case 'yahoo':
      return 'Yahoo!-Mail-Feedback/2.0';
    case 'microsoft':
      return 'Microsoft Junk Mail Reporting Program';
    default:
      return 'Feedback-Loop/1.0';
  }
}

const domainIndexes = new WeakMap<TrafficModel, Map<string, DomainProfile>>();
function domainIndex(model: TrafficModel): Map<string, DomainProfile> {
  let idx = domainIndexes.get(model);
  if (!idx) {
    idx = new Map(model.domains.map((p) => [p.domain.toLowerCase(), p]));
    domainIndexes.set(model, idx);
  }
  return idx;
}

// ---------------------------------------------------------------------------------------------------------------
// Records: the exact JSON SES publishes for a message and an outcome
// ---------------------------------------------------------------------------------------------------------------

/** Everything SES knows about one accepted message, from which every record of that message is built. */
export interface MailContext {
  messageId: string;
  /** When SES accepted the message (epoch ms): `mail.timestamp`. */
  sentAt: number;
  /** Envelope MAIL FROM (`mail.source`). */
  source: string;
  /** The From header, e.g. `Acme <news@mail.acme-example.com>`. */
  fromHeader: string;
  fromDomain: string;
  sendingAccountId: string;
  region?: string;
  destination: readonly string[];
  subject: string;
  configurationSet?: string;
  /** The SES tenant (`TenantName`): SES adds `ses:tenant-name` to bounce and complaint records. */
  tenantName?: string;
  operation: 'SendEmail' | 'SendBulkEmail';
  /** The API caller's IP (`ses:source-ip`). */
  sourceIp: string;
  /** The IAM identity that called SES (`ses:caller-identity`). */
  callerIdentity: string;
  /** The IP SES delivered from (`ses:outgoing-ip`, on Delivery records). */
  outgoingIp: string;
  /** Message tags (`EmailTags`): tenant, campaign, message_kind. */
  emailTags: Readonly<Record<string, string>>;
}

type Json = Record<string, unknown>;

/**
 * Builds the SES records of one message. Records built by one factory share their `headers` and `commonHeaders`
 * objects: treat records as read-only (serialise them, do not mutate).
 */
export class SesRecordFactory {
  private readonly mailWithArn: Json;
  private readonly baseTags: Record<string, string[]>;
  private tagsTenant?: Record<string, string[]>;
  private tagsDelivery?: Record<string, string[]>;

  constructor(readonly ctx: MailContext) {
    const to = ctx.destination.join(', ');
    const headers = [
      { name: 'From', value: ctx.fromHeader },
      { name: 'To', value: to },
      { name: 'Subject', value: ctx.subject },
      { name: 'MIME-Version', value: '1.0' },
      { name: 'Content-Type', value: 'multipart/alternative; boundary="----=_Part_0_sesflow"' },
    ];
    const commonHeaders = {
      from: [ctx.fromHeader],
      to: [...ctx.destination],
      messageId: ctx.messageId,
      subject: ctx.subject,
    };
    const tags: Record<string, string[]> = { 'ses:operation': [ctx.operation] };
    if (ctx.configurationSet) tags['ses:configuration-set'] = [ctx.configurationSet];
    tags['ses:source-ip'] = [ctx.sourceIp];
    tags['ses:from-domain'] = [ctx.fromDomain];
    tags['ses:caller-identity'] = [ctx.callerIdentity];
    for (const [k, v] of Object.entries(ctx.emailTags)) tags[k] = [v];
    this.baseTags = tags;
    const timestamp = new Date(ctx.sentAt).toISOString();
    const destination = [...ctx.destination];
    this.mailWithArn = {
      timestamp,
      source: ctx.source,
      sourceArn: `arn:aws:ses:${ctx.region ?? 'us-east-1'}:${ctx.sendingAccountId}:identity/${ctx.fromDomain}`,
      sendingAccountId: ctx.sendingAccountId,
      messageId: ctx.messageId,
      destination,
      headersTruncated: false,
      headers,
      commonHeaders,
    };
  }

  /** The `mail` object; the AWS Open and Click examples carry no sourceArn (aws-facts §1.2). */
  private mail(tags: Record<string, string[]>, withArn = true): Json {
    const m = this.mailWithArn;
    // Literal objects of one shape (no spread): this runs once per record.
    if (withArn) {
      return {
        timestamp: m.timestamp,
        source: m.source,
        sourceArn: m.sourceArn,
        sendingAccountId: m.sendingAccountId,
        messageId: m.messageId,
        destination: m.destination,
        headersTruncated: false,
        headers: m.headers,
        commonHeaders: m.commonHeaders,
        tags,
      };
    }
    return {
      timestamp: m.timestamp,
      source: m.source,
      sendingAccountId: m.sendingAccountId,
      messageId: m.messageId,
      destination: m.destination,
      headersTruncated: false,
      headers: m.headers,
      commonHeaders: m.commonHeaders,
      tags,
    };
  }

  /** Bounce and complaint records carry `ses:tenant-name` when the message was sent through a tenant. */
  private tenantTags(): Record<string, string[]> {
    if (!this.ctx.tenantName) return this.baseTags;
    this.tagsTenant ??= { ...this.baseTags, 'ses:tenant-name': [this.ctx.tenantName] };
    return this.tagsTenant;
  }

  sendRecord(): Json {
    return { eventType: 'Send', mail: this.mail(this.baseTags), send: {} };
  }

  /** A Reject record (virus found): SES stops processing the message. */
  rejectRecord(): Json {
    return { eventType: 'Reject', mail: this.mail(this.baseTags), reject: { reason: 'Bad content' } };
  }

  /**
   * The record of one outcome, stamped at `at` (epoch ms; the simulator passes scaled wall-clock time, the
   * generator `sentAt + afterMs`). `idRng` draws feedback ids.
   */
  outcomeRecord(o: Outcome, at: number, idRng: SeededRandom): Json {
    const timestamp = new Date(at).toISOString();
    switch (o.kind) {
      case 'delivery':
        this.tagsDelivery ??= { ...this.baseTags, 'ses:outgoing-ip': [this.ctx.outgoingIp] };
        return {
          eventType: 'Delivery',
          mail: this.mail(this.tagsDelivery),
          delivery: {
            timestamp,
            processingTimeMillis: Math.max(0, at - this.ctx.sentAt),
            recipients: [o.recipient],
            smtpResponse: smtpOk(domainOf(o.recipient), at, idRng),
            reportingMTA: `${idRng.pick(MTA_NAMES)}.smtp-out.amazonses.com`,
          },
        };
      case 'bounce': {
        const rcpt: Json = { emailAddress: o.recipient };
        if (o.status) {
          rcpt.action = 'failed';
          rcpt.status = o.status;
          rcpt.diagnosticCode = o.diagnosticCode;
        }
        const bounce: Json = {
          bounceType: o.bounceType,
          bounceSubType: o.bounceSubType,
          bouncedRecipients: [rcpt],
          timestamp,
          feedbackId: sesId(at, idRng),
        };
        if (o.reportingMta) bounce.reportingMTA = o.reportingMta;
        return { eventType: 'Bounce', bounce, mail: this.mail(this.tenantTags()) };
      }
      case 'delay':
        return {
          eventType: 'DeliveryDelay',
          mail: this.mail(this.baseTags),
          deliveryDelay: {
            timestamp,
            delayType: o.delayType,
            expirationTime: new Date(this.ctx.sentAt + o.expiresAfterMs).toISOString(),
            delayedRecipients: [{ emailAddress: o.recipient, status: o.status, diagnosticCode: o.diagnosticCode }],
            reportingMTA: `${idRng.range(40, 209)}.${idRng.range(0, 255)}.${idRng.range(0, 255)}.${idRng.range(1, 254)}`,
          },
        };
      case 'complaint':
        return {
          eventType: 'Complaint',
          complaint: {
            feedbackId: sesId(at, idRng),
            complaintSubType: o.subType,
            complainedRecipients: [{ emailAddress: o.recipient }],
            timestamp,
            userAgent: o.userAgent,
            complaintFeedbackType: o.feedbackType,
            arrivalDate: new Date(at - 2000).toISOString(),
          },
          mail: this.mail(this.tenantTags()),
        };
      case 'open':
        return {
          eventType: 'Open',
          mail: this.mail(this.baseTags, false),
          open: { ipAddress: o.ip, timestamp, userAgent: o.userAgent },
        };
      case 'click':
        return {
          eventType: 'Click',
          click: { ipAddress: o.ip, link: o.link, linkTags: {}, timestamp, userAgent: o.userAgent },
          mail: this.mail(this.baseTags, false),
        };
    }
  }
}

function smtpOk(domain: string, at: number, rng: SeededRandom): string {
  if (domain === SIMULATOR_DOMAIN) return '250 2.6.0 Message received';
  if (domain.includes('gmail')) {
    return `250 2.0.0 OK  ${Math.floor(at / 1000)} ${rng.hex(13)}-${rng.hex(14)}si${rng.range(100000, 999999)}ad.${rng.range(100, 999)} - gsmtp`;
  }
  if (/outlook|hotmail|live/.test(domain)) {
    return `250 2.6.0 <${rng.hex(16)}@email.amazonses.com> [InternalId=${rng.range(1e9, 9e9)}, Hostname=${rng.pick(['BN8PR12MB3281', 'DM4PR11MB5439', 'SA1PR02MB8560'])}.namprd12.prod.outlook.com] ${rng.range(8000, 90000)} bytes in 0.${rng.range(100, 999)}, ${rng.range(10, 900)}.${rng.range(100, 999)} KB/sec Queued mail for delivery`;
  }
  if (domain.includes('yahoo') || domain === 'aol.com') return '250 ok dirdel';
  return `250 2.0.0 Ok: queued as ${rng.hex(10).toUpperCase()}`;
}

/**
 * An id in SES's format: 16 hex digits (`01` + `00` + the epoch milliseconds in 12 hex digits), a UUID, `-000000`,
 * e.g. `0100018e2f6a9c41-7d3b1f0e-5a2c-4e8b-9c61-2f4d8a7b3e10-000000`. Used for message ids and feedback ids.
 */
export function sesId(atMs: number, rng: SeededRandom): string {
  const h = rng.hex(32);
  const variant = ((rng.uint32() & 0x3) | 0x8).toString(16);
  return `0100${Math.floor(atMs).toString(16).padStart(12, '0')}-${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}-000000`;
}

/** The event time of a record (epoch ms): its type object's `timestamp`, or `mail.timestamp` for Send and Reject. */
export function recordEventTime(record: Record<string, unknown>): number {
  for (const key of ['delivery', 'bounce', 'complaint', 'open', 'click', 'deliveryDelay']) {
    const o = record[key] as { timestamp?: unknown } | undefined;
    if (o && typeof o.timestamp === 'string') return Date.parse(o.timestamp);
  }
  const mail = record.mail as { timestamp?: unknown } | undefined;
  return typeof mail?.timestamp === 'string' ? Date.parse(mail.timestamp) : Number.NaN;
}

/** True for a string in SES's message id format. */
export const SES_MESSAGE_ID = /^0100[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-000000$/;

// ---------------------------------------------------------------------------------------------------------------
// Tenants and the traffic generator
// ---------------------------------------------------------------------------------------------------------------

export interface CampaignProfile {
  /** The `campaign` tag (letters, digits, `_`, `-`). */
  id: string;
  kind: 'transactional' | 'marketing';
  subject: string;
  links: readonly string[];
  weight?: number;
}

export interface TenantProfile {
  /** The `tenant` tag and the SES tenant name (letters, digits, `_`, `-`). */
  name: string;
  /** Default `<name>-events`. */
  configurationSet?: string;
  /** Default `mail.<name>-example.com`. */
  fromDomain?: string;
  /** Relative volume (default 1). */
  weight?: number;
  campaigns?: readonly CampaignProfile[];
  /** Per-domain recipient weights replacing the model's mix. */
  domainMix?: Readonly<Record<string, number>>;
  sender?: SenderBehaviour;
}

/** The behaviour of a bad sender: a stale list (8 % hard bounces), complaints well above SES's 0.1 % review line. */
export const BAD_SENDER: SenderBehaviour = { hardBounceRate: 0.08, complaintRate: 0.004, engagement: 0.5 };

const TENANT_NAMES = [
  'acme',
  'globex',
  'initech',
  'umbrella',
  'hooli',
  'stark-industries',
  'wayne-enterprises',
  'wonka',
  'soylent',
  'cyberdyne',
  'tyrell',
  'oscorp',
  'aperture',
  'black-mesa',
  'vandelay',
  'dunder-mifflin',
  'pied-piper',
  'massive-dynamic',
  'gringotts',
  'monarch',
];

function campaignsFor(name: string): CampaignProfile[] {
  const site = `https://www.${name}-example.com`;
  const app = `https://app.${name}-example.com`;
  return [
    {
      id: 'order-confirmation',
      kind: 'transactional',
      subject: 'Your order is confirmed',
      links: [`${app}/orders?utm_source=email`],
      weight: 4,
    },
    {
      id: 'password-reset',
      kind: 'transactional',
      subject: 'Reset your password',
      links: [`${app}/reset?utm_source=email`],
      weight: 1,
    },
    {
      id: 'weekly-digest',
      kind: 'marketing',
      subject: 'This week at a glance',
      links: [`${site}/blog?utm_source=digest`, `${site}/unsubscribe`],
      weight: 3,
    },
    {
      id: 'spring-sale',
      kind: 'marketing',
      subject: 'Spring sale: 20% off everything',
      links: [`${site}/sale?utm_campaign=spring-sale`, `${site}/unsubscribe`],
      weight: 2,
    },
  ];
}

/**
 * `n` demo tenants with realistic names and uneven volumes (Zipf-like weights). Every tenant at index 3, 13, 23, …
 * (`umbrella` first) is a bad sender ({@link BAD_SENDER}), so any set of four or more tenants has one.
 */
export function defaultTenants(n: number): TenantProfile[] {
  const out: TenantProfile[] = [];
  for (let i = 0; i < n; i++) {
    const name = TENANT_NAMES[i] ?? `tenant-${String(i + 1).padStart(3, '0')}`;
    const profile: TenantProfile = { name, weight: 1 / (i + 1) ** 0.7, campaigns: campaignsFor(name) };
    if (i % 10 === 3) profile.sender = BAD_SENDER;
    out.push(profile);
  }
  return out;
}

export interface TrafficOptions {
  seed: number;
  tenants: readonly TenantProfile[] | number;
  /** Messages to send (each has 1–3 recipients). */
  messages: number;
  /** Time of the first send. */
  start: Date;
  /** Sends are spread over this many hours (default 24); later events may fall after the span. */
  spanHours?: number;
  model?: TrafficModel;
  /** Stop after this many records. */
  maxRecords?: number;
  /**
   * `event-time` (default): records come out in event-time order (a heap holds pending events: memory grows with
   * the number of events in flight, not with the total). `message`: each message's records together, sends in order.
   */
  order?: 'event-time' | 'message';
  sendingAccountId?: string;
  /**
   * Daily rhythm of sends (default true): the send rate follows the hour of day, peaking at 15:00 UTC (US morning,
   * European afternoon) at four times the 03:00 trough. False: a flat rate over the span.
   */
  diurnal?: boolean;
}

/** Relative send rate at a UTC time: 1 ± 0.6, highest at 15:00 UTC. */
export function diurnalWeight(epochMs: number): number {
  const hour = (epochMs / HOUR) % 24;
  return 1 + 0.6 * Math.cos((2 * Math.PI * (hour - 15)) / 24);
}

/**
 * Maps offsets of a flat-rate process over [0, spanMs] to times whose density follows {@link diurnalWeight}
 * (inverse of the cumulative intensity, per minute, interpolated). Monotonic: order is kept. Offsets past the span
 * continue at a flat rate.
 */
export function diurnalWarp(startMs: number, spanMs: number): (offsetMs: number) => number {
  const steps = Math.max(1, Math.ceil(spanMs / MINUTE));
  const cumulative = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) {
    cumulative[i + 1] = cumulative[i]! + diurnalWeight(startMs + (i + 0.5) * MINUTE);
  }
  const total = cumulative[steps]!;
  return (offsetMs) => {
    if (offsetMs >= spanMs) return startMs + offsetMs;
    const target = (offsetMs / spanMs) * total;
    let lo = 0;
    let hi = steps;
    while (lo + 1 < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! <= target) lo = mid;
      else hi = mid;
    }
    const w = cumulative[lo + 1]! - cumulative[lo]!;
    const frac = w > 0 ? (target - cumulative[lo]!) / w : 0;
    return startMs + Math.min(spanMs, (lo + frac) * MINUTE);
  };
}

interface TenantRuntime {
  profile: TenantProfile;
  configurationSet: string;
  fromDomain: string;
  displayName: string;
  sourceIp: string;
  campaigns: readonly CampaignProfile[];
  campaignCumulative: Float64Array;
  domains: readonly string[] | null;
  domainCumulative: Float64Array | null;
}

const FIRST_NAMES = [
  'james',
  'mary',
  'john',
  'patricia',
  'robert',
  'jennifer',
  'michael',
  'linda',
  'david',
  'elizabeth',
  'maria',
  'sofia',
  'lukas',
  'emma',
  'noah',
  'olivia',
  'liam',
  'mia',
  'yuki',
  'wei',
  'fatima',
  'omar',
  'anna',
  'pierre',
];
const LAST_NAMES = [
  'smith',
  'johnson',
  'williams',
  'brown',
  'jones',
  'garcia',
  'miller',
  'davis',
  'martinez',
  'lopez',
  'muller',
  'schmidt',
  'dubois',
  'rossi',
  'tanaka',
  'chen',
  'khan',
  'nguyen',
  'kowalski',
  'silva',
];
const SIMULATOR_LOCALS = ['success', 'success', 'bounce', 'ooto', 'complaint', 'suppressionlist'];

function makeAddress(rng: SeededRandom, domain: string): string {
  const f = rng.pick(FIRST_NAMES);
  const l = rng.pick(LAST_NAMES);
  switch (rng.int(4)) {
    case 0:
      return `${f}.${l}@${domain}`;
    case 1:
      return `${f}${l}${rng.range(1, 9999)}@${domain}`;
    case 2:
      return `${f[0]}.${l}${rng.range(1, 99)}@${domain}`;
    default:
      return `${f}_${l}${rng.range(70, 2005)}@${domain}`;
  }
}

interface Pending {
  at: number;
  seq: number;
  factory: SesRecordFactory;
  outcome: Outcome;
}

/** One message the model wants sent: who sends it, for which campaign, to whom. */
export interface PlannedMessage {
  tenant: TenantProfile;
  configurationSet: string;
  fromDomain: string;
  /** `Acme <news@mail.acme-example.com>` (marketing) or `… <no-reply@…>` (transactional). */
  fromHeader: string;
  fromAddress: string;
  campaign: CampaignProfile;
  recipients: string[];
}

/**
 * Draws messages from the model: tenant by weight, campaign by weight, recipients from the tenant's domain mix
 * (or the model's), a small share to mailbox-simulator addresses. `sesflow start` sends these through the SES
 * simulator; `generateTraffic` turns them straight into records.
 */
export class MessagePlanner {
  private readonly tenants: TenantRuntime[];
  private readonly tenantCumulative: Float64Array;
  private readonly defaultDomains: readonly string[];
  private readonly defaultDomainCumulative: Float64Array;

  constructor(
    tenants: readonly TenantProfile[] | number,
    private readonly model: TrafficModel,
    private readonly rng: SeededRandom,
  ) {
    const profiles = typeof tenants === 'number' ? defaultTenants(tenants) : tenants;
    if (profiles.length === 0) throw new RangeError('at least one tenant is needed');
    this.tenants = profiles.map((p, i) => tenantRuntime(p, i));
    this.tenantCumulative = cumulativeOf(profiles.map((p) => p.weight ?? 1));
    this.defaultDomains = model.domains.map((x) => x.domain);
    this.defaultDomainCumulative = cumulativeOf(model.domains.map((x) => x.weight));
  }

  /** The tenants, with defaults filled in (configuration set, from domain). */
  get profiles(): { tenant: TenantProfile; configurationSet: string; fromDomain: string; sourceIp: string }[] {
    return this.tenants.map((t) => ({
      tenant: t.profile,
      configurationSet: t.configurationSet,
      fromDomain: t.fromDomain,
      sourceIp: t.sourceIp,
    }));
  }

  next(): PlannedMessage & { sourceIp: string; displayName: string } {
    const rng = this.rng;
    const tenant = this.tenants[pickCumulative(this.tenantCumulative, rng)]!;
    const campaign = tenant.campaigns[pickCumulative(tenant.campaignCumulative, rng)]!;
    const recipients: string[] = [];
    if (rng.chance(this.model.simulatorShare)) {
      recipients.push(`${rng.pick(SIMULATOR_LOCALS)}@${SIMULATOR_DOMAIN}`);
    } else {
      const n = rng.chance(this.model.multiRecipientShare) ? rng.range(2, 3) : 1;
      for (let i = 0; i < n; i++) {
        const domain = tenant.domains
          ? tenant.domains[pickCumulative(tenant.domainCumulative!, rng)]!
          : this.defaultDomains[pickCumulative(this.defaultDomainCumulative, rng)]!;
        recipients.push(makeAddress(rng, domain));
      }
    }
    const local = campaign.kind === 'marketing' ? 'news' : 'no-reply';
    const fromAddress = `${local}@${tenant.fromDomain}`;
    return {
      tenant: tenant.profile,
      configurationSet: tenant.configurationSet,
      fromDomain: tenant.fromDomain,
      fromAddress,
      fromHeader: `${tenant.displayName} <${fromAddress}>`,
      campaign,
      recipients,
      sourceIp: tenant.sourceIp,
      displayName: tenant.displayName,
    };
  }
}

/**
 * Streams SES event-publishing records (plain objects; serialise each with JSON.stringify and a newline to get what
 * SES writes to Firehose) for the given tenants and number of messages. Sends follow a Poisson process over the
 * span; later events follow the model's delays. Deterministic for a given seed and options.
 */
export function* generateTraffic(opts: TrafficOptions): Generator<Record<string, unknown>> {
  const rng = new SeededRandom(opts.seed);
  const idRng = new SeededRandom(opts.seed ^ 0x5e5f10);
  const model = opts.model ?? createTrafficModel();
  const planner = new MessagePlanner(opts.tenants, model, rng);
  const account = opts.sendingAccountId ?? '123456789012';
  const spanMs = (opts.spanHours ?? 24) * HOUR;
  const meanGap = opts.messages > 0 ? spanMs / opts.messages : 0;
  const maxRecords = opts.maxRecords ?? Number.POSITIVE_INFINITY;
  const byMessage = opts.order === 'message';
  const heap = new TimeHeap<Pending>();
  let seq = 0;
  let emitted = 0;
  let t = 0;
  const startMs = opts.start.getTime();
  const warp = opts.diurnal === false ? (x: number) => startMs + x : diurnalWarp(startMs, spanMs);

  for (let m = 0; m < opts.messages && emitted < maxRecords; m++) {
    t += rng.exponential(meanGap);
    const sentAt = Math.floor(warp(t));
    while (!byMessage && heap.size > 0 && heap.peek()!.at <= sentAt && emitted < maxRecords) {
      const p = heap.pop()!;
      emitted++;
      yield p.factory.outcomeRecord(p.outcome, p.at, idRng);
    }
    if (emitted >= maxRecords) break;
    const plan = planner.next();
    const { campaign, recipients } = plan;
    const tenantName = plan.tenant.name;
    const factory = new SesRecordFactory({
      messageId: sesId(sentAt, idRng),
      sentAt,
      source: plan.fromAddress,
      fromHeader: plan.fromHeader,
      fromDomain: plan.fromDomain,
      sendingAccountId: account,
      destination: recipients,
      subject: campaign.subject,
      configurationSet: plan.configurationSet,
      tenantName,
      operation: campaign.kind === 'marketing' ? 'SendBulkEmail' : 'SendEmail',
      sourceIp: plan.sourceIp,
      callerIdentity: `${tenantName}-mailer`,
      outgoingIp: `54.240.${rng.range(0, 63)}.${rng.range(1, 254)}`,
      emailTags: { tenant: tenantName, campaign: campaign.id, message_kind: campaign.kind },
    });
    emitted++;
    yield factory.sendRecord();
    const outcomes = simulateOutcomes(
      { recipients, sender: plan.tenant.sender, messageKind: campaign.kind, links: campaign.links },
      model,
      rng,
    );
    if (byMessage) outcomes.sort((a, b) => a.afterMs - b.afterMs);
    for (const o of outcomes) {
      if (byMessage) {
        if (emitted >= maxRecords) return;
        emitted++;
        yield factory.outcomeRecord(o, sentAt + o.afterMs, idRng);
      } else {
        heap.push({ at: sentAt + o.afterMs, seq: seq++, factory, outcome: o });
      }
    }
  }
  while (heap.size > 0 && emitted < maxRecords) {
    const p = heap.pop()!;
    emitted++;
    yield p.factory.outcomeRecord(p.outcome, p.at, idRng);
  }
}

function tenantRuntime(p: TenantProfile, index: number): TenantRuntime {
  const tagValue = /^[A-Za-z0-9_-]{1,64}$/;
  if (!tagValue.test(p.name)) {
    throw new RangeError(`tenant name must be 1-64 letters, digits, '_' or '-': ${JSON.stringify(p.name)}`);
  }
  const campaigns = p.campaigns && p.campaigns.length > 0 ? p.campaigns : campaignsFor(p.name);
  for (const c of campaigns) {
    if (!tagValue.test(c.id)) throw new RangeError(`campaign id must be letters, digits, '_' or '-': ${c.id}`);
  }
  const mix = p.domainMix ? Object.entries(p.domainMix) : null;
  const ipRng = new SeededRandom(index + 7919);
  return {
    profile: p,
    configurationSet: p.configurationSet ?? `${p.name}-events`,
    fromDomain: p.fromDomain ?? `mail.${p.name}-example.com`,
    displayName: p.name.replace(/(^|-)([a-z])/g, (_m, sep: string, c: string) => `${sep ? ' ' : ''}${c.toUpperCase()}`),
    sourceIp: `198.51.100.${ipRng.range(2, 254)}`,
    campaigns,
    campaignCumulative: cumulativeOf(campaigns.map((c) => c.weight ?? 1)),
    domains: mix ? mix.map(([k]) => k) : null,
    domainCumulative: mix ? cumulativeOf(mix.map(([, w]) => w)) : null,
  };
}
