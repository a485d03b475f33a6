import type { NormalisedEvent } from '../../ingest/normalise';
import { testEvent, testMail } from '../../ingest/test-events';
import { transformRecord } from '../../ingest/transform';
import { buildRecords, type ReportingRecord, recordIdOf, toReportingRecord } from './record';

/** What happens to a test message's recipient, from the send on. */
export type TestOutcome = 'sent' | 'delivered' | 'opened' | 'clicked' | 'bounced' | 'complained' | 'rejected';

const at = (base: number, seconds: number) => new Date(base + seconds * 1000).toISOString();

/**
 * Raw SES event records (published format) of one single-recipient message with the given outcome, for tests and the
 * push benchmark: Send, then Delivery, opens (two distinct ones, one of them by a machine), a click, a hard bounce, a
 * complaint or a reject, a few seconds to hours apart.
 */
export function messageEvents(opts: {
  messageId: string;
  tenant: string;
  recipient: string;
  outcome: TestOutcome;
  time?: string;
  campaign?: string;
}): Record<string, unknown>[] {
  const base = Date.parse(opts.time ?? '2026-05-01T10:00:00.000Z');
  const mail = testMail({
    messageId: opts.messageId,
    timestamp: at(base, 0),
    destination: [opts.recipient],
    commonHeaders: { from: ['news@mail.tenant-a.test'], to: [opts.recipient], subject: 'Hello' },
    tags: {
      'ses:configuration-set': [`${opts.tenant}-marketing`],
      'ses:from-domain': ['mail.tenant-a.test'],
      tenant: [opts.tenant],
      campaign: [opts.campaign ?? 'spring'],
      message_kind: ['marketing'],
    },
  });
  const out: Record<string, unknown>[] = [testEvent('Send', 'send', {}, mail)];
  if (opts.outcome === 'sent') return out;
  if (opts.outcome === 'rejected') {
    out.push(testEvent('Reject', 'reject', { reason: 'Bad content' }, mail));
    return out;
  }
  if (opts.outcome === 'bounced') {
    out.push(
      testEvent(
        'Bounce',
        'bounce',
        {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: [{ emailAddress: opts.recipient, status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1' }],
          timestamp: at(base, 4),
          feedbackId: `${opts.messageId}-bounce`,
        },
        mail,
      ),
    );
    return out;
  }
  out.push(
    testEvent(
      'Delivery',
      'delivery',
      { timestamp: at(base, 3), processingTimeMillis: 3000, recipients: [opts.recipient], smtpResponse: '250 ok' },
      mail,
    ),
  );
  if (opts.outcome === 'delivered') return out;
  if (opts.outcome === 'complained') {
    out.push(
      testEvent(
        'Complaint',
        'complaint',
        {
          complainedRecipients: [{ emailAddress: opts.recipient }],
          timestamp: at(base, 7200),
          feedbackId: `${opts.messageId}-complaint`,
          complaintFeedbackType: 'abuse',
        },
        mail,
      ),
    );
    return out;
  }
  const open = (seconds: number, userAgent: string) =>
    testEvent('Open', 'open', { ipAddress: '198.51.100.7', timestamp: at(base, seconds), userAgent }, mail);
  out.push(open(1800, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)'), open(5400, 'Mozilla/5.0 (iPhone)'));
  if (opts.outcome === 'opened') return out;
  out.push(
    testEvent(
      'Click',
      'click',
      {
        ipAddress: '198.51.100.7',
        timestamp: at(base, 1900),
        userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
        link: 'https://tenant-a.test/offer',
        linkTags: { campaign: ['spring'] },
      },
      mail,
    ),
  );
  return out;
}

/** Normalised rows of raw SES records (through the shared transform); throws if one does not transform. */
export function normalisedRows(raw: readonly Record<string, unknown>[]): NormalisedEvent[] {
  return raw.flatMap((r) => {
    const t = transformRecord(JSON.stringify(r));
    if (!t.ok) throw new Error(`test event did not transform: ${t.reason}`);
    return t.rows;
  });
}

/**
 * `n` distinct reporting records quickly (tests and the benchmark): real records of each outcome built through the
 * transform and the merge, copied under new message ids, with tenants `tenant-0` … `tenant-<tenants-1>`.
 */
export function syntheticRecords(n: number, opts: { tenants?: number; prefix?: string } = {}): ReportingRecord[] {
  const outcomes: TestOutcome[] = ['delivered', 'opened', 'clicked', 'delivered', 'bounced', 'complained', 'sent'];
  const templates = outcomes.map((outcome) => {
    const events = normalisedRows(
      messageEvents({ messageId: 'template', tenant: 't', recipient: 'r@x.test', outcome }),
    );
    return toReportingRecord([...buildRecords(events).values()][0]!);
  });
  const tenants = opts.tenants ?? 5;
  const out: ReportingRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = templates[i % templates.length]!;
    const messageId = `${opts.prefix ?? 'msg'}-${i}`;
    const recipient = `reader${i}@inbox${i % 17}.test`;
    out[i] = {
      ...t,
      record_id: recordIdOf(messageId, recipient),
      message_id: messageId,
      recipient,
      recipient_domain: `inbox${i % 17}.test`,
      tenant_id: `tenant-${i % tenants}`,
    };
  }
  return out;
}
