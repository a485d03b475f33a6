import { describe, expect, it } from 'vitest';
import { hasRealworld, hasSharedFixtures, loadRealworldLines, loadSesEventFixtures } from '../lib/shared-fixtures';
import { generateTraffic } from '../local/traffic-model';
import { NormaliseProblem, normaliseEvent } from './normalise';
import { fastPathAccepted, parseSesEvent, withZodOnly } from './ses-event-schema';
import { testBounce, testComplaint, testEvent, testMail, testOpen } from './test-events';

type Json = Record<string, unknown>;

/** What a record becomes: refused with its reason, or its normalised rows (all the lake ever sees of it). */
function outcome(value: unknown) {
  const p = parseSesEvent(value);
  if (!p.ok) return { ok: false, problem: p.problem };
  const rows = normaliseEvent(p.event);
  return {
    ok: true,
    type: p.event.type,
    form: p.event.form,
    sesType: p.event.sesType,
    rows: rows instanceof NormaliseProblem ? { problem: rows.reason } : rows,
  };
}

/** The hand-written hot path and zod alone give the same outcome for `value`. */
function expectSameOutcome(value: unknown, label: string) {
  const fast = outcome(value);
  const zod = withZodOnly(() => outcome(value));
  expect(fast, label).toEqual(zod);
}

const ODD_VALUES: unknown[] = [1, 0, 12.5, 'text', '', null, true, false, [], ['x'], [1], {}, { emailAddress: 5 }];

/**
 * Broken variants of a record: every field of its mail object and of its type object (two levels down, array
 * elements included) replaced by each odd value, or deleted; the objects themselves replaced or deleted.
 */
function* variants(record: Json): Generator<[string, unknown]> {
  const clone = () => structuredClone(record);
  function* walk(path: (string | number)[], depth: number): Generator<[string, unknown]> {
    let node: unknown = record;
    for (const k of path) node = (node as Record<string | number, unknown>)[k];
    const keys = Array.isArray(node)
      ? node.map((_, i) => i)
      : node && typeof node === 'object'
        ? Object.keys(node)
        : [];
    for (const k of keys) {
      const at = [...path, k];
      for (const v of ODD_VALUES) {
        const c = clone();
        let parent = c as Record<string | number, unknown>;
        for (const p of path) parent = parent[p] as Record<string | number, unknown>;
        parent[k] = structuredClone(v);
        yield [`${at.join('.')} = ${JSON.stringify(v)}`, c];
      }
      const c = clone();
      let parent = c as Record<string | number, unknown>;
      for (const p of path) parent = parent[p] as Record<string | number, unknown>;
      if (Array.isArray(parent)) parent.splice(k as number, 1);
      else delete parent[k];
      yield [`${at.join('.')} deleted`, c];
      if (depth > 0) yield* walk(at, depth - 1);
    }
  }
  for (const key of Object.keys(record)) {
    if (key === 'eventType' || key === 'notificationType') continue;
    yield* walk([key], 2);
  }
}

function fixtureRecords(): [string, Json][] {
  const out: [string, Json][] = [];
  if (hasSharedFixtures) for (const [name, ev] of Object.entries(loadSesEventFixtures())) out.push([name, ev]);
  if (hasRealworld) {
    const lines = loadRealworldLines();
    for (let i = 0; i < lines.length; i++) out.push([`realworld line ${i + 1}`, JSON.parse(lines[i]!)]);
  }
  out.push(['test bounce', testBounce('Permanent', 'General')], ['test open', testOpen('Mozilla/5.0')]);
  out.push(['test complaint', testComplaint({ complaintFeedbackType: 'abuse', userAgent: 'Yahoo' })]);
  return out;
}

describe('the hand-written schema checks agree with the zod schemas', () => {
  it('on the shared fixtures and every real-world record (and accept them without zod)', () => {
    const records = fixtureRecords();
    const before = fastPathAccepted();
    for (const [label, rec] of records) expectSameOutcome(rec, label);
    // Most of them go through the hot path (rendering failures and subscriptions always go to zod).
    expect(fastPathAccepted() - before).toBeGreaterThan(records.length / 2);
  });

  it('on every broken variant of those records', () => {
    let n = 0;
    // Every fixture and every third real-world record (their shapes repeat; all of them take too long for a unit test).
    const records = fixtureRecords().filter(([label], i) => !label.startsWith('realworld') || i % 3 === 0);
    for (const [label, rec] of records) {
      for (const [what, variant] of variants(rec)) {
        expectSameOutcome(variant, `${label}: ${what}`);
        n++;
      }
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('on traffic-model records of every type the model makes', () => {
    const seen = new Set<string>();
    for (const rec of generateTraffic({
      seed: 7,
      tenants: 5,
      messages: 400,
      start: new Date('2026-10-01T00:00:00Z'),
    })) {
      seen.add(String(rec.eventType));
      expectSameOutcome(rec, JSON.stringify(rec).slice(0, 200));
    }
    expect(seen.size).toBeGreaterThanOrEqual(6);
  });

  it('on envelopes and objects zod must judge: odd types, link tags, suppressed keys, tag shapes', () => {
    const cases: [string, unknown][] = [
      ['array record', []],
      ['string record', 'Send'],
      ['no type', { mail: testMail() }],
      ['toString type', { eventType: 'toString', mail: testMail(), toString: {} }],
      ['lower-case send', { eventType: 'send', mail: testMail(), send: {} }],
      ['send without object', { eventType: 'Send', mail: testMail() }],
      ['send with null object', { eventType: 'Send', mail: testMail(), send: null }],
      ['send with array object', { eventType: 'Send', mail: testMail(), send: [] }],
      [
        'click with __proto__ link tag',
        JSON.parse(
          `{"eventType":"Click","mail":${JSON.stringify(testMail())},"click":{"link":"https://x.test","linkTags":{"__proto__":{"a":["b"]},"c":["d"]}}}`,
        ),
      ],
      [
        'click with link tags',
        testEvent('Click', 'click', { link: 'https://x.test', linkTags: { b: ['1'], a: ['2'], 3: ['x'] } }),
      ],
      ['click with array link tags', testEvent('Click', 'click', { link: 'https://x.test', linkTags: ['a'] })],
      [
        'delivery with string processing time',
        testEvent('Delivery', 'delivery', {
          processingTimeMillis: 'processing-time',
          recipients: ['reader@inbox.test'],
        }),
      ],
      [
        'tags not canonical',
        { eventType: 'Send', mail: testMail({ tags: { tenant: 'a', n: [1, null, 'x'], z: null } }), send: {} },
      ],
      ['tags an array', { eventType: 'Send', mail: testMail({ tags: [] }), send: {} }],
      [
        'notification bounce',
        {
          notificationType: 'Bounce',
          mail: testMail(),
          bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'a@b.test' }] },
        },
      ],
      ['notification open', { notificationType: 'Open', mail: testMail(), open: {} }],
      ['rendering failure', testEvent('Rendering Failure', 'failure', { templateName: 't', errorMessage: 'e' })],
      [
        'subscription',
        testEvent('Subscription', 'subscription', {
          contactList: 'l',
          newTopicPreferences: {
            unsubscribeAll: false,
            extra: 1,
            topicSubscriptionStatus: [{ topicName: 'a', subscriptionStatus: 'OptIn', x: 1 }],
          },
        }),
      ],
    ];
    for (const [label, value] of cases) expectSameOutcome(value, label);
  });
});
