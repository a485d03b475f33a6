import { describe, expect, it } from 'vitest';
import { hasRealworld, hasSharedFixtures, loadRealworldLines, loadSesEventFixtures } from '../lib/shared-fixtures';
import { classifyMachineOpen, PREFETCH_WINDOW_MS } from './machine-open';
import { computeEventId, type NormalisedEvent, normaliseAddress, parseSesTime } from './normalise';
import { TEST_MESSAGE_ID, testBounce, testComplaint, testEvent, testMail, testOpen } from './test-events';
import { transformRecord } from './transform';

type Json = Record<string, any>;

function rowsOf(record: unknown, options = {}): NormalisedEvent[] {
  const r = transformRecord(JSON.stringify(record), options);
  if (!r.ok) throw new Error(`expected ok, got ${r.errorType}: ${r.reason}`);
  return r.rows;
}

function only(record: unknown): NormalisedEvent {
  const rows = rowsOf(record);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

const ms = (iso: string) => Date.parse(iso);

describe.skipIf(!hasSharedFixtures)(
  'the real-format SES fixtures (skipped where ../shared/ses-events is absent)',
  () => {
    const fx = hasSharedFixtures ? (loadSesEventFixtures() as Record<string, Json>) : {};

    function common(row: NormalisedEvent, ev: Json) {
      expect(row.message_id).toBe(ev.mail.messageId);
      expect(row.tenant_id).toBe(ev.mail.tags.tenant[0]);
      expect(row.tenant_source).toBe('tag');
      expect(row.record_form).toBe('event');
      expect(row.configuration_set).toBe(ev.mail.tags['ses:configuration-set'][0]);
      expect(row.campaign_id).toBe(ev.mail.tags.campaign_id[0]);
      expect(row.message_kind).toBe(ev.mail.tags.message_kind[0]);
      expect(row.sending_account_id).toBe(ev.mail.sendingAccountId);
      expect(row.mail_time).toBe(ms(ev.mail.timestamp));
      expect(row.event_id).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.parse(row.tags)).toEqual(ev.mail.tags);
    }

    /** The one row of fixture `name`: its mail fields checked, its type, and its time from the `detail` object. */
    function rowOf(name: string, type: string, detail: string): { ev: Json; row: NormalisedEvent } {
      const ev = fx[name]!;
      const row = only(ev);
      common(row, ev);
      expect(row.event_type).toBe(type);
      expect(row.event_time).toBe(ms(ev[detail].timestamp));
      return { ev, row };
    }

    it('Send: one row per destination at the mail time, counting toward nothing', () => {
      const ev = fx.Send!;
      const rows = rowsOf(ev);
      expect(rows.map((r) => r.recipient)).toEqual(ev.mail.destination);
      const row = rows[0]!;
      common(row, ev);
      expect(row.event_type).toBe('send');
      expect(row.event_time).toBe(ms(ev.mail.timestamp));
      expect(row.counts_toward_bounce_rate).toBe(false);
      expect(row.counts_toward_complaint_rate).toBe(false);
    });

    it('Delivery: recipients, processing time and SMTP response from the delivery object', () => {
      const { ev, row } = rowOf('Delivery', 'delivery', 'delivery');
      expect(row.recipient).toBe(ev.delivery.recipients[0]);
      expect(row.processing_time_ms).toBe(ev.delivery.processingTimeMillis);
      expect(row.diagnostic_code).toBe(ev.delivery.smtpResponse);
    });

    it('Bounce: hard bounce with DSN fields counts toward the bounce rate', () => {
      const { ev, row } = rowOf('Bounce', 'bounce', 'bounce');
      const rcpt = ev.bounce.bouncedRecipients[0];
      expect(row.bounce_type).toBe(ev.bounce.bounceType);
      expect(row.bounce_subtype).toBe(ev.bounce.bounceSubType);
      expect(row.smtp_status).toBe(rcpt.status);
      expect(row.diagnostic_code).toBe(rcpt.diagnosticCode);
      expect(row.feedback_id).toBe(ev.bounce.feedbackId);
      expect(row.recipient_domain).toBe(rcpt.emailAddress.split('@')[1]);
      expect(row.counts_toward_bounce_rate).toBe(true);
    });

    it('Complaint: abuse feedback counts toward the complaint rate', () => {
      const { ev, row } = rowOf('Complaint', 'complaint', 'complaint');
      expect(row.complaint_feedback_type).toBe(ev.complaint.complaintFeedbackType);
      expect(row.complaint_subtype).toBeNull();
      expect(row.counts_toward_complaint_rate).toBe(true);
      expect(row.counts_toward_bounce_rate).toBe(false);
    });

    it('Open and Click: the sole destination is the recipient; link, ip and user agent are kept', () => {
      const open = only(fx.Open!);
      common(open, fx.Open!);
      expect(open.event_type).toBe('open');
      expect(open.recipient).toBe(fx.Open!.mail.destination[0]);
      expect(open.user_agent).toBe(fx.Open!.open.userAgent);
      expect(open.ip).toBe(fx.Open!.open.ipAddress);
      expect(open.machine_open).toBe(false);
      const click = only(fx.Click!);
      expect(click.event_type).toBe('click');
      expect(click.link).toBe(fx.Click!.click.link);
      expect(click.event_time).toBe(ms(fx.Click!.click.timestamp));
      expect(JSON.parse(click.detail!).linkTags).toEqual(fx.Click!.click.linkTags);
    });

    it('Reject, Rendering Failure (with a space, key failure), DeliveryDelay and Subscription', () => {
      const reject = only(fx.Reject!);
      expect(reject.event_type).toBe('reject');
      expect(reject.diagnostic_code).toBe(fx.Reject!.reject.reason);
      const rf = fx.RenderingFailure!;
      expect(rf.eventType).toBe('Rendering Failure');
      const failure = only(rf);
      expect(failure.event_type).toBe('rendering_failure');
      expect(failure.diagnostic_code).toBe(rf.failure.errorMessage);
      expect(JSON.parse(failure.detail!).templateName).toBe(rf.failure.templateName);
      expect(failure.event_time).toBe(ms(rf.mail.timestamp));
      const dd = fx.DeliveryDelay!;
      const delay = only(dd);
      expect(delay.event_type).toBe('delivery_delay');
      expect(delay.delay_type).toBe(dd.deliveryDelay.delayType);
      expect(delay.smtp_status).toBe(dd.deliveryDelay.delayedRecipients[0].status);
      expect(delay.event_time).toBe(ms(dd.deliveryDelay.timestamp));
      const sub = only(fx.Subscription!);
      expect(sub.event_type).toBe('subscription');
      const detail = JSON.parse(sub.detail!);
      expect(detail.contactList).toBe(fx.Subscription!.subscription.contactList);
      expect(detail.newTopicPreferences).toEqual(fx.Subscription!.subscription.newTopicPreferences);
    });

    it('the shared messageId gives each event type a different event id', () => {
      const ids = ['Send', 'Delivery', 'Bounce', 'Complaint', 'Open', 'Click', 'Reject', 'DeliveryDelay'].map(
        (k) => only(fx[k]!).event_id,
      );
      expect(new Set(ids).size).toBe(ids.length);
    });

    describe('the variants of aws-facts §1.3a', () => {
      const bounce = (type: string, subtype: string, diag?: string) => {
        const ev = structuredClone(fx.Bounce!);
        ev.bounce.bounceType = type;
        ev.bounce.bounceSubType = subtype;
        if (diag) ev.bounce.bouncedRecipients[0].diagnosticCode = diag;
        return ev;
      };
      it('Transient/MailboxFull is a soft bounce: not in the bounce rate', () => {
        const row = only(bounce('Transient', 'MailboxFull'));
        expect([row.bounce_type, row.bounce_subtype]).toEqual(['Transient', 'MailboxFull']);
        expect(row.counts_toward_bounce_rate).toBe(false);
      });
      it('Permanent/OnAccountSuppressionList and OnTenantSuppressionList were never sent: not in the bounce rate', () => {
        for (const sub of ['OnAccountSuppressionList', 'OnTenantSuppressionList']) {
          const row = only(bounce('Permanent', sub, 'Amazon SES did not send the message to this address'));
          expect(row.bounce_subtype).toBe(sub);
          expect(row.counts_toward_bounce_rate).toBe(false);
        }
      });
      it('a complaint from the suppression list, and a not-spam report, are not complaints', () => {
        const suppressed = structuredClone(fx.Complaint!);
        suppressed.complaint.complaintSubType = 'OnAccountSuppressionList';
        expect(only(suppressed).complaint_subtype).toBe('OnAccountSuppressionList');
        expect(only(suppressed).counts_toward_complaint_rate).toBe(false);
        const notSpam = structuredClone(fx.Complaint!);
        notSpam.complaint.complaintFeedbackType = 'not-spam';
        expect(only(notSpam).counts_toward_complaint_rate).toBe(false);
      });
      it('a bounce without DSN fields still gives a row, with null status and diagnostic', () => {
        const ev = structuredClone(fx.Bounce!);
        ev.bounce.bouncedRecipients = [{ emailAddress: ev.bounce.bouncedRecipients[0].emailAddress }];
        delete ev.bounce.reportingMTA;
        const row = only(ev);
        expect(row.smtp_status).toBeNull();
        expect(row.diagnostic_code).toBeNull();
        expect(row.counts_toward_bounce_rate).toBe(true);
      });
      it('headersTruncated and a multi-recipient destination with one bounced recipient give one row', () => {
        const ev = structuredClone(fx.Bounce!);
        ev.mail.headersTruncated = true;
        ev.mail.destination = [ev.bounce.bouncedRecipients[0].emailAddress, 'second@example.org', 'third@example.org'];
        const rows = rowsOf(ev);
        expect(rows).toHaveLength(1);
        expect(rows[0]!.recipient).toBe(ev.bounce.bouncedRecipients[0].emailAddress);
        const send = structuredClone(fx.Send!);
        send.mail.destination = ev.mail.destination;
        expect(rowsOf(send).map((r) => r.recipient)).toEqual(ev.mail.destination);
      });
    });
  },
);

describe('record forms and types', () => {
  it('accepts the classic notificationType form and says so', () => {
    const rec = { notificationType: 'Bounce', mail: testMail(), bounce: testBounce('Permanent', 'General').bounce };
    const row = only(rec);
    expect(row.record_form).toBe('notification');
    expect(row.event_type).toBe('bounce');
  });

  it('refuses notificationType values that only event publishing has', () => {
    const r = transformRecord(JSON.stringify({ notificationType: 'Open', mail: testMail(), open: {} }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errorType).toBe('unknown-event-type');
  });

  it('accepts lower-case type strings found in real captures', () => {
    expect(only({ ...testOpen('Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0'), eventType: 'open' }).event_type).toBe(
      'open',
    );
    expect(rowsOf({ eventType: 'send', mail: testMail(), send: {} })[0]!.event_type).toBe('send');
  });

  it('accepts a Send record without its empty send object', () => {
    expect(rowsOf({ eventType: 'Send', mail: testMail() })).toHaveLength(1);
  });

  it('refuses an unknown eventType, a missing mail.messageId and a missing type object with a reason', () => {
    const unknown = transformRecord(JSON.stringify({ eventType: 'Teleport', mail: testMail() }));
    expect(unknown).toMatchObject({ ok: false, errorType: 'unknown-event-type' });
    if (!unknown.ok) expect(unknown.reason).toContain('Teleport');
    const noId = transformRecord(JSON.stringify(testEvent('Send', 'send', {}, testMail({ messageId: undefined }))));
    expect(noId).toMatchObject({ ok: false, errorType: 'schema-invalid', reason: 'missing mail.messageId' });
    const noObj = transformRecord(JSON.stringify({ eventType: 'Delivery', mail: testMail() }));
    expect(noObj).toMatchObject({ ok: false, errorType: 'schema-invalid' });
    if (!noObj.ok) expect(noObj.reason).toContain('delivery');
  });

  it('keeps unknown fields and unknown subtypes as data', () => {
    const ev = testBounce('Transient', 'SomethingSesAddedLater');
    (ev.bounce as Json).brandNewField = { x: 1 };
    const row = only(ev);
    expect(row.bounce_subtype).toBe('SomethingSesAddedLater');
    expect(row.counts_toward_bounce_rate).toBe(false);
  });

  it('gives a missing bounceSubType a null subtype', () => {
    expect(only(testBounce('Permanent', undefined)).bounce_subtype).toBeNull();
  });
});

describe('tenant resolution', () => {
  const tagged = (tags: Record<string, string[]>) => testEvent('Send', 'send', {}, testMail({ tags }));

  it('prefers the tenant tag, then ses:tenant-name, then the configuration-set mapping, else unknown', () => {
    const map = new Map([['cs-b', 'tenant-b']]);
    const both = { tenant: ['t-tag'], 'ses:tenant-name': ['t-ses'], 'ses:configuration-set': ['cs-b'] };
    expect(rowsOf(tagged(both), { configSetTenants: map })[0]).toMatchObject({
      tenant_id: 't-tag',
      tenant_source: 'tag',
    });
    const ses = { 'ses:tenant-name': ['t-ses'], 'ses:configuration-set': ['cs-b'] };
    expect(rowsOf(tagged(ses), { configSetTenants: map })[0]).toMatchObject({
      tenant_id: 't-ses',
      tenant_source: 'ses-tenant-name',
    });
    const cs = { 'ses:configuration-set': ['cs-b'] };
    expect(rowsOf(tagged(cs), { configSetTenants: map })[0]).toMatchObject({
      tenant_id: 'tenant-b',
      tenant_source: 'configuration-set',
    });
    expect(rowsOf(tagged(cs))[0]).toMatchObject({ tenant_id: 'unknown', tenant_source: 'unknown' });
  });

  it('reads the campaign from tag campaign, or campaign_id', () => {
    const row = rowsOf(tagged({ tenant: ['t'], campaign_id: ['c-old'] }))[0]!;
    expect(row.campaign_id).toBe('c-old');
  });
});

describe('event time and partitioning inputs', () => {
  it('uses the event object time, not the mail time, and parses odd offsets', () => {
    expect(parseSesTime('2018-10-08T14:05:45 +0000')).toBe(Date.UTC(2018, 9, 8, 14, 5, 45));
    expect(parseSesTime('2012-05-25T14:59:38.623-07:00')).toBe(Date.UTC(2012, 4, 25, 21, 59, 38, 623));
    expect(parseSesTime('date')).toBeNull();
    expect(parseSesTime(undefined)).toBeNull();
  });

  it('refuses an event whose time is a placeholder, with the reason', () => {
    const r = transformRecord(JSON.stringify(testEvent('Send', 'send', {}, testMail({ timestamp: 'timestamp' }))));
    expect(r).toMatchObject({ ok: false, errorType: 'invalid-time' });
  });

  it('a bounce arriving days late keeps its own time', () => {
    const ev = testBounce('Permanent', 'General');
    (ev.bounce as Json).timestamp = '2026-05-04T23:59:59.999Z';
    expect(only(ev).event_time).toBe(Date.UTC(2026, 4, 4, 23, 59, 59, 999));
  });
});

describe('recipients', () => {
  it('extracts bare addresses from display-name forms and lower-cases only the domain', () => {
    expect(normaliseAddress(' Tr <Some.One@Example.ORG>')).toBe('Some.One@example.org');
    expect(normaliseAddress('a@B.test')).toBe('a@b.test');
    expect(normaliseAddress('')).toBeNull();
  });

  it('an open of a multi-recipient message has no recipient', () => {
    const row = only(
      testOpen(
        'Mozilla/5.0 (Windows NT 10.0) Chrome/140',
        undefined,
        testMail({ destination: ['a@x.test', 'b@y.test'] }),
      ),
    );
    expect(row.recipient).toBeNull();
    expect(row.recipient_domain).toBeNull();
  });

  it('a complaint naming nobody still gives one row, so nothing is lost', () => {
    const row = only(testComplaint({ complaintSubType: null }, []));
    expect(row.recipient).toBeNull();
    expect(row.message_id).toBe(TEST_MESSAGE_ID);
  });

  it('one delivery to several recipients gives one row each with distinct ids', () => {
    const ev = testEvent('Delivery', 'delivery', {
      timestamp: '2026-05-01T10:00:02.000Z',
      processingTimeMillis: 'processing-time',
      recipients: ['a@x.test', 'b@y.test'],
    });
    const rows = rowsOf(ev);
    expect(rows.map((r) => r.recipient)).toEqual(['a@x.test', 'b@y.test']);
    expect(rows[0]!.event_id).not.toBe(rows[1]!.event_id);
    expect(rows[0]!.processing_time_ms).toBeNull();
  });

  it('mailbox-simulator recipients are flagged and never count toward reputation', () => {
    const b = only(testBounce('Permanent', 'General', [{ emailAddress: 'bounce+t1@simulator.amazonses.com' }]));
    expect(b.is_simulator).toBe(true);
    expect(b.counts_toward_bounce_rate).toBe(false);
    const c = only(testComplaint({ complaintSubType: null }, [{ emailAddress: 'complaint@simulator.amazonses.com' }]));
    expect(c.counts_toward_complaint_rate).toBe(false);
  });

  it('an empty-string complaintSubType means not set: the complaint counts', () => {
    expect(only(testComplaint({ complaintSubType: '' })).counts_toward_complaint_rate).toBe(true);
  });
});

describe('event ids', () => {
  it('are deterministic and change with each identifying part', () => {
    const a = only(testBounce('Permanent', 'General'));
    const b = only(testBounce('Permanent', 'General'));
    expect(a.event_id).toBe(b.event_id);
    const other = testBounce('Permanent', 'General');
    (other.bounce as Json).feedbackId = 'another-feedback';
    expect(only(other).event_id).not.toBe(a.event_id);
    expect(computeEventId(['m', 'a'])).not.toBe(computeEventId(['m', 'b']));
  });

  it('two opens by different clients at the same moment stay two events', () => {
    const a = only(testOpen('Mozilla/5.0 (iPhone) Mobile/15E148'));
    const b = only(testOpen('Mozilla/5.0 (Windows NT 10.0) Chrome/140'));
    expect(a.event_id).not.toBe(b.event_id);
  });
});

describe('machine opens', () => {
  const sent = Date.UTC(2026, 4, 1, 10);
  const later = sent + 3_600_000;

  it('flags proxy and scanner user agents, and names the rule', () => {
    expect(classifyMachineOpen('Mozilla/5.0', later, sent)).toBe('apple-mail-privacy');
    expect(
      classifyMachineOpen(
        'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
        later,
        sent,
      ),
    ).toBe('google-image-proxy');
    expect(
      classifyMachineOpen('YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html', later, sent),
    ).toBe('yahoo-mail-proxy');
    expect(classifyMachineOpen('Barracuda Sentinel (EE)', later, sent)).toBe('security-scanner');
    expect(classifyMachineOpen('python-requests/2.32', later, sent)).toBe('security-scanner');
    expect(classifyMachineOpen('', later, sent)).toBe('no-user-agent');
  });

  it('flags an open seconds after sending, and not a person reading later', () => {
    const ua =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
    expect(classifyMachineOpen(ua, sent + PREFETCH_WINDOW_MS - 1, sent)).toBe('prefetch-on-delivery');
    expect(classifyMachineOpen(ua, sent + PREFETCH_WINDOW_MS, sent)).toBeNull();
    expect(classifyMachineOpen(ua, later, null)).toBeNull();
  });

  it('sets machine_open on open rows', () => {
    expect(only(testOpen('Mozilla/5.0')).machine_open).toBe(true);
    expect(only(testOpen('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15')).machine_open).toBe(false);
  });
});

describe.skipIf(!hasRealworld)('the real-world corpus (skipped where ../shared/ses-events-realworld is absent)', () => {
  const lines = hasRealworld ? loadRealworldLines() : [];

  it('accounts for every record: rows, or a reasoned error', () => {
    let ok = 0;
    let failed = 0;
    for (const line of lines) {
      const r = transformRecord(Buffer.from(line));
      if (r.ok) {
        ok++;
        expect(r.rows.length).toBeGreaterThan(0);
        for (const row of r.rows) expect(Number.isFinite(row.event_time)).toBe(true);
      } else {
        failed++;
        expect(r.reason.length).toBeGreaterThan(0);
        expect(r.reason).not.toContain('\n');
      }
    }
    expect(ok + failed).toBe(lines.length);
    expect(ok).toBeGreaterThan(failed);
  });

  it('classifies the odd real records by their own fields', () => {
    for (const line of lines) {
      const rec = JSON.parse(line);
      const r = transformRecord(Buffer.from(line));
      if (!r.ok) continue;
      for (const row of r.rows) {
        if (rec.bounce) {
          const sub = rec.bounce.bounceSubType ?? null;
          const neverSent = sub === 'OnAccountSuppressionList' || sub === 'OnTenantSuppressionList';
          const hard = rec.bounce.bounceType === 'Permanent' && !neverSent && !row.is_simulator;
          expect(row.counts_toward_bounce_rate).toBe(hard);
        }
        if (rec.complaint) {
          const sub = rec.complaint.complaintSubType || null;
          const counts = sub === null && rec.complaint.complaintFeedbackType !== 'not-spam' && !row.is_simulator;
          expect(row.counts_toward_complaint_rate).toBe(counts);
        }
        if (row.event_type === 'open' && /GoogleImageProxy/.test(row.user_agent ?? ''))
          expect(row.machine_open).toBe(true);
      }
    }
  });
});
