import { type MessageTag, SendEmailCommand } from '@aws-sdk/client-sesv2';

/** What a test mail says where it differs from the defaults of {@link textMail}. */
export interface TextMail {
  /** Default `a@mail.example.com`. */
  from?: string;
  /** Default the mailbox simulator's success address. */
  to?: string[];
  subject?: string;
  text?: string;
  configurationSet?: string;
  tenant?: string;
  tags?: MessageTag[];
}

/** A one-part text mail through SESv2 `SendEmail`, with only the fields a test names. */
export function textMail(m: TextMail = {}): SendEmailCommand {
  return new SendEmailCommand({
    FromEmailAddress: m.from ?? 'a@mail.example.com',
    Destination: { ToAddresses: m.to ?? ['success@simulator.amazonses.com'] },
    Content: { Simple: { Subject: { Data: m.subject ?? 's' }, Body: { Text: { Data: m.text ?? 'b' } } } },
    ...(m.configurationSet ? { ConfigurationSetName: m.configurationSet } : {}),
    ...(m.tenant ? { TenantName: m.tenant } : {}),
    ...(m.tags ? { EmailTags: m.tags } : {}),
  });
}
