import { InvalidMessageError } from './errors';

/** SES: message tag names and values are ASCII letters, digits, `_` and `-`, 1 to 256 characters (aws-facts §1.2). */
const TAG_VALUE = /^[A-Za-z0-9_-]{1,256}$/;

/** The tags every message carries: the lake, the reputation path and the reports read them (DESIGN.md). */
export interface SendTags {
  tenant: string;
  campaign?: string;
  messageKind?: string;
}

/** One line naming the tag and the first offending character (the value is cut short: it may be user input). */
function describeBadValue(name: string, value: string): string {
  if (value.length === 0) return `tag ${name} is empty`;
  if (value.length > 256) return `tag ${name} is longer than 256 characters`;
  const bad = [...value].find((c) => !/[A-Za-z0-9_-]/.test(c)) ?? '?';
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return `tag ${name} value "${shown}" has the character ${JSON.stringify(bad)}: SES allows only letters, digits, _ and -`;
}

/** Throws InvalidMessageError when a value is not a valid SES tag value. */
export function assertTagValue(name: string, value: string): void {
  if (!TAG_VALUE.test(value)) throw new InvalidMessageError(describeBadValue(name, value));
}

/** Whether `value` may be an SES tag value. */
export const isTagValue = (value: string): boolean => TAG_VALUE.test(value);

/**
 * The EmailTags of a send (`tenant`, `campaign`, `message_kind`), validated: a bad value throws InvalidMessageError
 * before SES is called (SES would refuse the whole message).
 */
export function buildEmailTags(tags: SendTags): { Name: string; Value: string }[] {
  const out: { Name: string; Value: string }[] = [];
  assertTagValue('tenant', tags.tenant);
  out.push({ Name: 'tenant', Value: tags.tenant });
  if (tags.campaign !== undefined) {
    assertTagValue('campaign', tags.campaign);
    out.push({ Name: 'campaign', Value: tags.campaign });
  }
  if (tags.messageKind !== undefined) {
    assertTagValue('message_kind', tags.messageKind);
    out.push({ Name: 'message_kind', Value: tags.messageKind });
  }
  return out;
}
