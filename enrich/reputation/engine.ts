import { type ReputationPolicy, wilsonLowerBound } from '../../tenants/policy';

export type ReputationState = 'active' | 'warning' | 'paused';

/** Counts of one tenant over the window (simulator traffic and suppression-list events already excluded). */
export interface ReputationCounts {
  sent: number;
  delivered: number;
  hardBounces: number;
  complaints: number;
}

/** What lies behind a decision: enough for a compliance officer to check it without running a query. */
export interface ReputationEvidence {
  window: { from: string; to: string };
  counts: ReputationCounts;
  rates: { bounce: number; complaint: number };
  lowerBounds: { bounce: number; complaint: number };
  thresholds: {
    bounceWarning: number;
    bouncePause: number;
    complaintWarning: number;
    complaintPause: number;
    minSent: number;
    minDelivered: number;
  };
  policy: string;
  topDomains: { name: string; count: number }[];
  topCampaigns: { name: string; count: number }[];
  topDiagnosticCodes: { name: string; count: number }[];
}

export interface ReputationDecision {
  state: ReputationState;
  reasons: string[];
  evidence: ReputationEvidence;
}

const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)} %`;

/** The window a decision at `at` looks at: `windowHours` back, or from a resume (re-armed), whichever is later. */
export function decisionWindow(at: Date, policy: ReputationPolicy, armedSince?: Date | null): { from: Date; to: Date } {
  const from = new Date(at.getTime() - policy.windowHours * 3_600_000);
  return { from: armedSince && armedSince > from ? armedSince : from, to: at };
}

/** Decides a tenant's state from its windowed counts under a policy. Pure. */
export function decideReputation(
  counts: ReputationCounts,
  policy: ReputationPolicy,
  window: { from: Date; to: Date },
  top: Pick<ReputationEvidence, 'topDomains' | 'topCampaigns' | 'topDiagnosticCodes'> = {
    topDomains: [],
    topCampaigns: [],
    topDiagnosticCodes: [],
  },
): ReputationDecision {
  const bounceRate = counts.sent > 0 ? counts.hardBounces / counts.sent : 0;
  const complaintRate = counts.delivered > 0 ? counts.complaints / counts.delivered : 0;
  const bounceBound = wilsonLowerBound(counts.hardBounces, counts.sent, policy.z);
  const complaintBound = wilsonLowerBound(counts.complaints, counts.delivered, policy.z);
  const reasons: string[] = [];
  let state: ReputationState = 'active';
  if (bounceBound >= policy.bounce.pauseLowerBound) {
    state = 'paused';
    reasons.push(
      `bounce rate ${pct(bounceRate)} (${counts.hardBounces}/${counts.sent}); 95 % lower bound ${pct(bounceBound)} >= pause ${pct(policy.bounce.pauseLowerBound)}`,
    );
  }
  if (complaintBound >= policy.complaint.pauseLowerBound) {
    state = 'paused';
    reasons.push(
      `complaint rate ${pct(complaintRate, 3)} (${counts.complaints}/${counts.delivered}); 95 % lower bound ${pct(complaintBound, 3)} >= pause ${pct(policy.complaint.pauseLowerBound, 3)}`,
    );
  }
  if (state !== 'paused') {
    if (bounceRate >= policy.bounce.warningRate && counts.sent >= policy.bounce.warningMinSent) {
      state = 'warning';
      reasons.push(
        `bounce rate ${pct(bounceRate)} >= warning ${pct(policy.bounce.warningRate)} over ${counts.sent} sent`,
      );
    }
    if (complaintRate >= policy.complaint.warningRate && counts.delivered >= policy.complaint.warningMinDelivered) {
      state = 'warning';
      reasons.push(
        `complaint rate ${pct(complaintRate, 3)} >= warning ${pct(policy.complaint.warningRate, 3)} over ${counts.delivered} delivered`,
      );
    }
  }
  return {
    state,
    reasons,
    evidence: {
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      counts,
      rates: { bounce: bounceRate, complaint: complaintRate },
      lowerBounds: { bounce: bounceBound, complaint: complaintBound },
      thresholds: {
        bounceWarning: policy.bounce.warningRate,
        bouncePause: policy.bounce.pauseLowerBound,
        complaintWarning: policy.complaint.warningRate,
        complaintPause: policy.complaint.pauseLowerBound,
        minSent: policy.bounce.warningMinSent,
        minDelivered: policy.complaint.warningMinDelivered,
      },
      policy: policy.name,
      ...top,
    },
  };
}
