/** A marketing message from acme's sending domain, as a client posts it to the Email API (`POST /v1/messages`). */
export const MARKETING_MESSAGE = {
  from: 'Acme News <news@mail.acme-example.com>',
  to: ['reader@example.org'],
  subject: 'Spring launch',
  text: 'Hello',
  campaign: 'spring-launch',
  messageKind: 'marketing',
};
