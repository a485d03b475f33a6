import type { NormalisedEvent } from '../../ingest/normalise';
import { transformRecord } from '../../ingest/transform';
import { policyOf } from '../../tenants/policy';
import { pauseTenant, suppressRecipients } from './actuate';
import { evaluateHours, windowHours } from './buckets';
import type { ReputationDecision } from './engine';
import type { Alerter, CounterStore, SequencedRows, SesTenantControl, TenantStatusStore } from './ports';

/** One stream record as the live path needs it: its sequence number and raw SES event bytes. */
export interface StreamRecord {
  sequenceNumber: string;
  data: Uint8Array | string;
}

export interface LiveDeps {
  counters: CounterStore;
  status: TenantStatusStore;
  ses: SesTenantControl;
  alerter: Alerter;
  /** Evaluation time (the clock; tests fix it). */
  now: () => Date;
  defaultPolicy?: string;
  log?: (level: 'info' | 'warn' | 'error', message: string, keys: Record<string, unknown>) => void;
}

export interface BatchOutcome {
  /** Sequence numbers not processed: reported to Lambda as batch item failures (never acknowledged). */
  failed: string[];
  /** Records newly counted (duplicates skipped). */
  counted: number;
  decisions: Map<string, ReputationDecision>;
  paused: string[];
}

/**
 * The live path over one shard's batch: transform each record (a record that cannot be transformed fails, with its
 * reason logged; the Firehose path keeps it under `errors/` in the lake), group by tenant, count each tenant's
 * records exactly once, evaluate the policy for each tenant touched and pause if it says so, then put its
 * hard-bounced and complaining recipients on its suppression list. A tenant's failure fails only that tenant's records; the others stand.
 */
export async function processStreamBatch(
  deps: LiveDeps,
  batch: { streamArn: string; shardId: string; records: readonly StreamRecord[] },
): Promise<BatchOutcome> {
  const log = deps.log ?? (() => {});
  const failed: string[] = [];
  const byTenant = new Map<string, SequencedRows[]>();
  for (const r of batch.records) {
    const t = transformRecord(r.data);
    if (!t.ok) {
      log('error', 'record cannot be transformed', { sequenceNumber: r.sequenceNumber, errorType: t.errorType });
      failed.push(r.sequenceNumber);
      continue;
    }
    const tenant = t.rows[0]?.tenant_id;
    if (!tenant || tenant === 'unknown') continue;
    let list = byTenant.get(tenant);
    if (!list) {
      list = [];
      byTenant.set(tenant, list);
    }
    list.push({ sequenceNumber: r.sequenceNumber, rows: t.rows });
  }
  const outcome: BatchOutcome = { failed, counted: 0, decisions: new Map(), paused: [] };
  await Promise.all(
    [...byTenant].map(async ([tenantId, records]) => {
      try {
        const state = await deps.status.getState(tenantId);
        outcome.counted += await deps.counters.addRecords({
          streamArn: batch.streamArn,
          shardId: batch.shardId,
          tenantId,
          records,
          armedSince: state.armedSince,
        });
        // The decision first (a pause must not wait behind suppression calls), then the suppression list.
        const suppress = () =>
          suppressRecipients(
            deps.ses,
            records.flatMap((r) => r.rows as NormalisedEvent[]),
          );
        if (state.status === 'paused' || state.status === 'suspended') {
          await suppress();
          return;
        }
        const at = deps.now();
        const policy = policyOf(state.policy, deps.defaultPolicy);
        const w = windowHours(at, policy, state.armedSince);
        const hours = await deps.counters.readHours(tenantId, w.fromHour, w.toHour);
        const decision = evaluateHours(hours, policy, at, state.armedSince);
        outcome.decisions.set(tenantId, decision);
        if (decision.state === 'paused') {
          await pauseTenant(deps, tenantId, decision, at);
          outcome.paused.push(tenantId);
          log('warn', 'tenant paused', { tenantId, reasons: decision.reasons });
        } else if (decision.state !== state.status || decision.state === 'warning') {
          await deps.status.recordDecision(tenantId, decision, at);
        }
        await suppress();
      } catch (err) {
        log('error', 'tenant records failed', {
          tenantId,
          records: records.length,
          error: err instanceof Error ? err.message.split('\n')[0] : String(err),
        });
        for (const r of records) failed.push(r.sequenceNumber);
      }
    }),
  );
  return outcome;
}
