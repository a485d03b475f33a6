/**
 * Small SES records for unit tests, written for this project in the published SES format (aws-facts §1).
 * Tests that need the real-format fixtures read ../shared in place instead (lib/shared-fixtures.ts).
 */
export const TEST_MESSAGE_ID = '010001a0b1c2d3e4-11111111-2222-3333-4444-555555555555-000000';

export function testMail(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    timestamp: '2026-05-01T10:00:00.000Z',
    source: 'news@mail.tenant-a.test',
    sourceArn: 'arn:aws:ses:us-east-1:111122223333:identity/mail.tenant-a.test',
    sendingAccountId: '111122223333',
    messageId: TEST_MESSAGE_ID,
    destination: ['reader@inbox.test'],
    headersTruncated: false,
    commonHeaders: { from: ['news@mail.tenant-a.test'], to: ['reader@inbox.test'], subject: 'Hello' },
    tags: {
      'ses:configuration-set': ['tenant-a-marketing'],
      'ses:from-domain': ['mail.tenant-a.test'],
      tenant: ['tenant-a'],
      campaign: ['spring'],
      message_kind: ['marketing'],
    },
    ...overrides,
  };
}

export function testEvent(eventType: string, key: string, detail: unknown, mail = testMail()): Record<string, unknown> {
  return { eventType, mail, [key]: detail };
}

export function testBounce(
  bounceType: string,
  bounceSubType: string | undefined,
  recipients: Record<string, unknown>[] = [{ emailAddress: 'reader@inbox.test' }],
  mail = testMail(),
): Record<string, unknown> {
  return testEvent(
    'Bounce',
    'bounce',
    {
      bounceType,
      ...(bounceSubType === undefined ? {} : { bounceSubType }),
      bouncedRecipients: recipients,
      timestamp: '2026-05-01T10:00:03.000Z',
      feedbackId: '010001a0b1c2d3e5-feedback-000000',
    },
    mail,
  );
}

export function testComplaint(
  fields: Record<string, unknown>,
  recipients: Record<string, unknown>[] = [{ emailAddress: 'reader@inbox.test' }],
): Record<string, unknown> {
  return testEvent('Complaint', 'complaint', {
    complainedRecipients: recipients,
    timestamp: '2026-05-02T08:00:00.000Z',
    feedbackId: '010001a0b1c2d3e6-feedback-000000',
    ...fields,
  });
}

export function testOpen(userAgent: string | undefined, timestamp = '2026-05-01T12:00:00.000Z', mail = testMail()) {
  return testEvent('Open', 'open', { ipAddress: '198.51.100.7', timestamp, userAgent }, mail);
}
