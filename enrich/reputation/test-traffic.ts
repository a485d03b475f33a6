import { testBounce, testComplaint, testEvent, testMail } from '../../ingest/test-events';

/**
 * Raw SES event records (the published format, aws-facts §1) of one tenant's traffic, for tests and the benchmark:
 * `sent` single-recipient messages at `time`, `hard` of them hard-bouncing and `complaints` delivered and complained
 * about, both spread evenly over the messages (as in real traffic), the rest delivered. Message ids are unique per
 * (tenant, label, i).
 */
export function tenantTraffic(opts: {
  tenant: string;
  sent: number;
  hard?: number;
  complaints?: number;
  time: string;
  label?: string;
  domain?: string;
}): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const hard = opts.hard ?? 0;
  const complaints = opts.complaints ?? 0;
  const domain = opts.domain ?? 'inbox.test';
  const spread = (i: number, k: number) => Math.floor(((i + 1) * k) / opts.sent) > Math.floor((i * k) / opts.sent);
  for (let i = 0; i < opts.sent; i++) {
    const to = `r${i}-${opts.label ?? 'x'}@${domain}`;
    const mail = testMail({
      messageId: `${opts.tenant}-${opts.label ?? 'x'}-${opts.time}-${i}`,
      timestamp: opts.time,
      destination: [to],
      tags: { tenant: [opts.tenant], campaign: [`${opts.tenant}-campaign`] },
    });
    out.push(testEvent('Send', 'send', {}, mail));
    if (spread(i, hard)) {
      const b = testBounce(
        'Permanent',
        'General',
        [{ emailAddress: to, diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
        mail,
      );
      (b.bounce as Record<string, unknown>).timestamp = opts.time;
      out.push(b);
      continue;
    }
    out.push(
      testEvent(
        'Delivery',
        'delivery',
        { timestamp: opts.time, processingTimeMillis: 500, recipients: [to], smtpResponse: '250 ok' },
        mail,
      ),
    );
    if (spread(opts.sent - 1 - i, complaints)) {
      const c = testComplaint({ complaintFeedbackType: 'abuse', timestamp: opts.time }, [{ emailAddress: to }]);
      out.push({ ...c, mail });
    }
  }
  return out;
}
