import {
  type SESv2Client,
  SendEmailCommand,
  SendingPausedException,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import type { MessagePlanner } from '../traffic-model';

export interface TrafficDriverStats {
  sent: number;
  refusedPaused: number;
  throttled: number;
  failed: number;
}

/**
 * Sends the model's messages through the SES simulator with the real SESv2 client, at `ratePerSecond`, until
 * stopped: configuration set, SES tenant and the tags `tenant`, `campaign`, `message_kind` on every message.
 * A paused tenant's sends are refused by SES and counted, not retried.
 */
export function startTrafficDriver(opts: {
  ses: SESv2Client;
  planner: MessagePlanner;
  ratePerSecond: number;
  onProblem?: (line: string) => void;
}): { stats: TrafficDriverStats; stop(): Promise<void> } {
  const stats: TrafficDriverStats = { sent: 0, refusedPaused: 0, throttled: 0, failed: 0 };
  const tickMs = 200;
  let credit = 0;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const pausedReported = new Set<string>();
  const sendOne = async () => {
    const m = opts.planner.next();
    try {
      await opts.ses.send(
        new SendEmailCommand({
          FromEmailAddress: m.fromHeader,
          Destination: { ToAddresses: m.recipients },
          Content: { Simple: { Subject: { Data: m.campaign.subject }, Body: { Text: { Data: 'Simulated message' } } } },
          ConfigurationSetName: m.configurationSet,
          TenantName: m.tenant.name,
          EmailTags: [
            { Name: 'tenant', Value: m.tenant.name },
            { Name: 'campaign', Value: m.campaign.id },
            { Name: 'message_kind', Value: m.campaign.kind },
          ],
        }),
      );
      stats.sent++;
    } catch (err) {
      if (err instanceof SendingPausedException) {
        stats.refusedPaused++;
        if (!pausedReported.has(m.tenant.name)) {
          pausedReported.add(m.tenant.name);
          opts.onProblem?.(`traffic: sending is paused for tenant ${m.tenant.name}; its messages are refused`);
        }
      } else if (err instanceof TooManyRequestsException) {
        stats.throttled++;
      } else {
        stats.failed++;
        if (stats.failed === 1 || stats.failed % 100 === 0) {
          opts.onProblem?.(
            `traffic: send failed (${stats.failed} so far): ${err instanceof Error ? err.name : 'error'}`,
          );
        }
      }
    }
  };
  const timer = setInterval(() => {
    if (stopped) return;
    credit += (opts.ratePerSecond * tickMs) / 1000;
    while (credit >= 1 && inFlight.size < 50) {
      credit -= 1;
      const p = sendOne().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    credit = Math.min(credit, opts.ratePerSecond);
  }, tickMs);
  return {
    stats,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inFlight]);
    },
  };
}

/** A running traffic driver: its figures and how to stop it. */
export type TrafficDriver = ReturnType<typeof startTrafficDriver>;
