import { describe, expect, it } from 'vitest';
import { STANDARD_POLICY, STRICT_POLICY, wilsonLowerBound } from '../../tenants/policy';
import { decideReputation, decisionWindow } from './engine';

const at = new Date('2026-06-08T12:00:00Z');
const window = decisionWindow(at, STANDARD_POLICY);
const decide = (sent: number, hard: number, delivered = sent, complaints = 0, policy = STANDARD_POLICY) =>
  decideReputation({ sent, delivered, hardBounces: hard, complaints }, policy, window);

describe('Wilson lower bound', () => {
  it('is below the observed rate, tighter with more volume, and 0 without trials', () => {
    expect(wilsonLowerBound(1, 10, 1.96)).toBeLessThan(0.1);
    expect(wilsonLowerBound(100, 1000, 1.96)).toBeGreaterThan(wilsonLowerBound(10, 100, 1.96));
    expect(wilsonLowerBound(0, 0, 1.96)).toBe(0);
    expect(wilsonLowerBound(5, 5, 1.96)).toBeLessThan(1);
  });
});

describe('pause needs statistical evidence', () => {
  it('one bounce in ten sends never pauses', () => {
    expect(decide(10, 1).state).toBe('active');
  });
  it('70 hard bounces in 1,000 sent pause; 60 in 1,000 do not', () => {
    const seventy = decide(1000, 70);
    expect(seventy.state).toBe('paused');
    expect(seventy.evidence.lowerBounds.bounce).toBeGreaterThanOrEqual(0.05);
    const sixty = decide(1000, 60);
    expect(sixty.state).toBe('warning');
    expect(sixty.evidence.lowerBounds.bounce).toBeLessThan(0.05);
  });
  it('complaints pause on the lower bound at 0.1 %', () => {
    expect(decide(100_000, 0, 100_000, 150).state).toBe('paused');
    expect(decide(100_000, 0, 100_000, 110).state).toBe('warning');
  });
});

describe('warnings respect minimum volumes', () => {
  it('bounce warning at 2 % needs 100 sent', () => {
    expect(decide(99, 2).state).toBe('active');
    expect(decide(100, 2).state).toBe('warning');
    expect(decide(100, 1).state).toBe('active');
  });
  it('complaint warning at 0.05 % needs 1,000 delivered', () => {
    expect(decide(999, 0, 999, 1).state).toBe('active');
    expect(decide(2000, 0, 2000, 1).state).toBe('warning');
    expect(decide(2001, 0, 2001, 1).state).toBe('active');
  });
});

describe('strict policy is standard at half the thresholds', () => {
  it('pauses where standard only warns', () => {
    expect(decide(1000, 40).state).toBe('warning');
    expect(decide(1000, 40, 1000, 0, STRICT_POLICY).state).toBe('paused');
    expect(STRICT_POLICY.bounce.pauseLowerBound).toBe(STANDARD_POLICY.bounce.pauseLowerBound / 2);
  });
});

describe('evidence', () => {
  it('carries window, counts, rates, bounds, thresholds and readable reasons', () => {
    const d = decide(1000, 70);
    expect(d.evidence.window).toEqual({ from: '2026-06-01T12:00:00.000Z', to: '2026-06-08T12:00:00.000Z' });
    expect(d.evidence.counts).toEqual({ sent: 1000, delivered: 1000, hardBounces: 70, complaints: 0 });
    expect(d.evidence.rates.bounce).toBeCloseTo(0.07, 10);
    expect(d.evidence.thresholds.bouncePause).toBe(0.05);
    expect(d.reasons).toHaveLength(1);
    expect(d.reasons[0]).toContain('70/1000');
  });
  it('a resume re-arms the window', () => {
    const resumed = new Date('2026-06-08T00:00:00Z');
    expect(decisionWindow(at, STANDARD_POLICY, resumed).from).toEqual(resumed);
    expect(decisionWindow(at, STANDARD_POLICY, new Date('2026-01-01T00:00:00Z')).from).toEqual(window.from);
  });
});
