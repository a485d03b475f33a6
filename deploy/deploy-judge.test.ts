import { describe, expect, it } from 'vitest';
import { judgeDeploy, parseBaseline } from './deploy-judge';
import { DeployError } from './serverless-cli';

const baseline = (depths: Record<string, number>) => ({
  stage: 'staging',
  startedAt: 1_796_000_000_000,
  deadLetterDepths: depths,
});

describe('judgeDeploy', () => {
  it('passes a deploy while an old message stands in a dead-letter queue (it was there before the deploy)', () => {
    expect(
      judgeDeploy(baseline({ 'sesflow-staging-reporting-dlq': 1 }), { 'sesflow-staging-reporting-dlq': 1 }, []),
    ).toEqual([]);
  });

  it('fails a deploy after which a dead-letter queue grew, naming the queue and the growth', () => {
    const before = baseline({ 'sesflow-staging-reporting-dlq': 1, 'sesflow-staging-send-jobs-dlq': 0 });
    const after = { 'sesflow-staging-reporting-dlq': 3, 'sesflow-staging-send-jobs-dlq': 0 };
    expect(judgeDeploy(before, after, [])).toEqual([
      'dead letters: sesflow-staging-reporting-dlq grew by 2 since the deploy began (1 -> 3)',
    ]);
  });

  it('passes a queue that shrank (redriven meanwhile) and counts a queue missing from the baseline from zero', () => {
    expect(judgeDeploy(baseline({ a: 5 }), { a: 0, b: 0 }, [])).toEqual([]);
    expect(judgeDeploy(baseline({ a: 5 }), { a: 5, b: 1 }, [])).toEqual([
      'dead letters: b grew by 1 since the deploy began (0 -> 1)',
    ]);
  });

  it("fails on errors of a function's new version and passes a version without any", () => {
    const errors = [
      { function: 'sesflow-staging-pusher', version: '7', errors: 0 },
      { function: 'sesflow-staging-reports-api', version: '12', errors: 4 },
    ];
    expect(judgeDeploy(baseline({ a: 2 }), { a: 2 }, errors)).toEqual([
      'new version: sesflow-staging-reports-api version 12 threw 4 time(s) since the deploy began',
    ]);
  });
});

describe('parseBaseline', () => {
  it('reads a recorded baseline and refuses anything else in one line', () => {
    const b = baseline({ a: 1 });
    expect(parseBaseline(JSON.stringify(b), 'b.json')).toEqual(b);
    expect(() => parseBaseline('{', 'b.json')).toThrow(DeployError);
    expect(() => parseBaseline('{"stage":"x"}', 'b.json')).toThrow(/^b\.json is not a smoke baseline/);
  });
});
