/**
 * Reputation policies are data, not code: thresholds, window and minimum volumes per policy, chosen per tenant.
 *
 * `standard` acts before AWS does (AWS reviews an account at 5 % bounces or 0.1 % complaints and may pause it at
 * 10 % / 0.5 %: aws-facts §3). A pause needs statistical evidence: the lower bound of the 95 % Wilson score interval
 * of the rate must reach the pause threshold, so 1 bounce in 10 sends never pauses, while 70 hard bounces in 1,000
 * sends do (bound 5.58 %) and 60 in 1,000 do not (4.69 %). `strict` is standard at half the thresholds.
 */
export interface ReputationPolicy {
  name: string;
  /** Rolling window ending at the evaluation time. */
  windowHours: number;
  /** z of the confidence interval (1.96 = 95 %). */
  z: number;
  bounce: { warningRate: number; warningMinSent: number; pauseLowerBound: number };
  complaint: { warningRate: number; warningMinDelivered: number; pauseLowerBound: number };
}

export const STANDARD_POLICY: ReputationPolicy = {
  name: 'standard',
  windowHours: 7 * 24,
  z: 1.96,
  bounce: { warningRate: 0.02, warningMinSent: 100, pauseLowerBound: 0.05 },
  complaint: { warningRate: 0.0005, warningMinDelivered: 1000, pauseLowerBound: 0.001 },
};

export const STRICT_POLICY: ReputationPolicy = {
  ...STANDARD_POLICY,
  name: 'strict',
  bounce: { ...STANDARD_POLICY.bounce, warningRate: 0.01, pauseLowerBound: 0.025 },
  complaint: { ...STANDARD_POLICY.complaint, warningRate: 0.00025, pauseLowerBound: 0.0005 },
};

export const POLICIES: ReadonlyMap<string, ReputationPolicy> = new Map([
  [STANDARD_POLICY.name, STANDARD_POLICY],
  [STRICT_POLICY.name, STRICT_POLICY],
]);

/**
 * Lower bound of the Wilson score interval of `successes` in `trials` (0 when there are no trials): the rate we can
 * be confident the true rate is above, given how few events there may be.
 */
export function wilsonLowerBound(successes: number, trials: number, z: number): number {
  if (trials <= 0) return 0;
  const p = Math.min(1, successes / trials);
  const z2 = z * z;
  const centre = p + z2 / (2 * trials);
  const margin = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return Math.max(0, (centre - margin) / (1 + z2 / trials));
}

/** The policy a tenant's profile names (`reputationPolicy`), else `fallback`, else `standard`. */
export function policyOf(name: string | null | undefined, fallback?: string): ReputationPolicy {
  return POLICIES.get(name ?? fallback ?? STANDARD_POLICY.name) ?? STANDARD_POLICY;
}

/**
 * The four lines the dashboards draw for a policy: the warning rates, and the rates at which the policy pauses
 * (the Wilson lower bound of the rate must reach them: a rate drawn above the pause line pauses once the volume
 * makes the bound reach it too).
 */
export interface Thresholds {
  /** The policy's name (`standard`, `strict`). */
  policy: string;
  bounceWarning: number;
  bouncePause: number;
  complaintWarning: number;
  complaintPause: number;
}

/** The thresholds the engine applies under `policy`, as the dashboards show them. */
export function thresholdsOf(policy: ReputationPolicy): Thresholds {
  return {
    policy: policy.name,
    bounceWarning: policy.bounce.warningRate,
    bouncePause: policy.bounce.pauseLowerBound,
    complaintWarning: policy.complaint.warningRate,
    complaintPause: policy.complaint.pauseLowerBound,
  };
}
