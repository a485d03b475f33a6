import { describe, expect, it } from 'vitest';
import { InvalidMessageError } from './errors';
import { assertTagValue, buildEmailTags, isTagValue } from './message-tags';

describe('message tags', () => {
  it('builds tenant, campaign and message_kind tags in that order', () => {
    expect(buildEmailTags({ tenant: 'acme', campaign: 'spring-2026_a', messageKind: 'marketing' })).toEqual([
      { Name: 'tenant', Value: 'acme' },
      { Name: 'campaign', Value: 'spring-2026_a' },
      { Name: 'message_kind', Value: 'marketing' },
    ]);
  });

  it('leaves out the optional tags when absent', () => {
    expect(buildEmailTags({ tenant: 'acme' })).toEqual([{ Name: 'tenant', Value: 'acme' }]);
  });

  it.each([
    ['spring sale', ' '],
    ['a.b', '.'],
    ['x:y', ':'],
    ['k=v', '='],
    ['me@x', '@'],
    ['été', 'é'],
  ])('refuses the campaign %j, naming the character %j', (value, bad) => {
    expect(() => buildEmailTags({ tenant: 'acme', campaign: value })).toThrow(InvalidMessageError);
    expect(() => buildEmailTags({ tenant: 'acme', campaign: value })).toThrow(
      `tag campaign value "${value}" has the character ${JSON.stringify(bad)}: SES allows only letters, digits, _ and -`,
    );
  });

  it('refuses an empty value and one over 256 characters', () => {
    expect(() => assertTagValue('message_kind', '')).toThrow('tag message_kind is empty');
    expect(() => assertTagValue('campaign', 'a'.repeat(257))).toThrow('longer than 256 characters');
    expect(isTagValue('a'.repeat(256))).toBe(true);
  });

  it('cuts a long bad value short in the message', () => {
    const err = (() => {
      try {
        assertTagValue('campaign', `${'a'.repeat(100)} b`);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toContain(`"${'a'.repeat(40)}…"`);
    expect(err?.message.length).toBeLessThan(160);
  });
});
