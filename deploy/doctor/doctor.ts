import {
  checkConsumerLag,
  checkDeadLetterQueues,
  checkEventDestinations,
  checkRecentEvents,
  type Finding,
  listTenantConfigurationSets,
} from './checks';
import type { DoctorTarget } from './targets';

export interface DoctorOptions {
  /** Every tenant must have events in this many minutes before `now`. */
  minutes: number;
  /** A stream consumer further behind than this is a problem. */
  maxLagMs: number;
  /** Evaluation time (epoch ms). */
  now: number;
}

/** A problem finding for a check that could not read what it needed. */
function couldNot(check: Finding['check'], what: string, err: unknown): Finding {
  return { check, severity: 'problem', message: `could not ${what}: ${(err as Error).message}` };
}

/**
 * Runs every check against one deployment and returns the findings in check order: event destinations, recent
 * events per tenant, dead-letter queues, consumer lag. A check that cannot reach its service reports that as a
 * problem and the others still run.
 */
export async function runDoctor(target: DoctorTarget, opts: DoctorOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  let tenants = new Map<string, string[]>();
  try {
    tenants = await listTenantConfigurationSets(target.ses);
    findings.push(...(await checkEventDestinations(target.ses, tenants, target.destinations)));
  } catch (err) {
    findings.push(couldNot('event destinations', 'list the SES tenants', err));
  }
  findings.push(
    ...(await checkRecentEvents(target.recentEvents, [...tenants.keys()], {
      minutes: opts.minutes,
      now: opts.now,
      quietReason: target.quietReason,
    })),
  );
  let dlqs: string[] = [];
  try {
    dlqs = await target.deadLetterQueues();
  } catch (err) {
    findings.push(couldNot('dead letters', 'list the queues', err));
  }
  findings.push(...(await checkDeadLetterQueues(target.sqs, dlqs)));
  let consumers: Awaited<ReturnType<DoctorTarget['consumers']>> = [];
  try {
    consumers = await target.consumers();
  } catch (err) {
    findings.push(couldNot('consumer lag', 'read the consumer checkpoints', err));
  }
  findings.push(
    ...(await checkConsumerLag(target.kinesis, target.stream, consumers, { maxLagMs: opts.maxLagMs, now: opts.now })),
  );
  return findings;
}

const MARK = { ok: 'ok     ', info: 'info   ', warning: 'warning', problem: 'PROBLEM' } as const;

/** The findings as plain lines grouped by check, and a closing summary line. */
export function formatFindings(label: string, findings: readonly Finding[]): string {
  const lines = [`sesflow doctor: ${label}`];
  let current = '';
  for (const f of findings) {
    if (f.check !== current) {
      current = f.check;
      lines.push('', `${current}:`);
    }
    lines.push(`  ${MARK[f.severity]}  ${f.message}`);
  }
  const problems = findings.filter((f) => f.severity === 'problem').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  lines.push(
    '',
    problems === 0
      ? `healthy: no problem found${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}`
      : `${problems} problem${problems > 1 ? 's' : ''} found${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
