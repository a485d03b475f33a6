import { randomUUID } from 'node:crypto';
import { describeError } from '../lib/errors';
import type { ErasureAudit, ErasureContext, ErasureReport, ErasureTarget, StoreOutcome } from './ports';
import { type ErasureRequest, Pseudonymiser, scrubText } from './request';

/** Item names listed per store in a report (the counts are always complete). */
export const MAX_LISTED_ITEMS = 200;

/**
 * Forgets one recipient in every store: each store's `discover` first (the lake says which messages the address
 * received, before it forgets them), then each store's `erase` in the order given. Put the lake last: a run that
 * stops half-way is run again, and the lake is what tells the other stores which records to delete. A store that
 * fails is reported with its one-line error and the others still run; the report then says the erasure is not
 * complete, and running again finishes it (every store's erase is idempotent).
 */
export async function forgetRecipient(
  request: ErasureRequest,
  deps: {
    key: string;
    targets: readonly ErasureTarget[];
    audit?: ErasureAudit;
    dryRun?: boolean;
    now?: () => Date;
  },
): Promise<ErasureReport> {
  const ctx: ErasureContext = {
    request,
    pseudonyms: new Pseudonymiser(deps.key),
    dryRun: deps.dryRun ?? false,
    subjects: { messages: new Map() },
  };
  const failed = new Map<string, string>();
  // An error's first line may quote the query it failed on: never the address in a report or an audit.
  const oneLine = (err: unknown) =>
    scrubText(describeError(err), request.address, ctx.pseudonyms.text(request.address));
  for (const t of deps.targets) {
    if (!t.discover) continue;
    try {
      await t.discover(ctx);
    } catch (err) {
      failed.set(t.store, oneLine(err));
    }
  }
  const stores: StoreOutcome[] = [];
  for (const t of deps.targets) {
    const discoverError = failed.get(t.store);
    if (discoverError) {
      stores.push({ store: t.store, found: 0, changed: 0, action: `failed: ${discoverError}` });
      continue;
    }
    try {
      const outcome = await t.erase(ctx);
      if (outcome.items && outcome.items.length > MAX_LISTED_ITEMS)
        outcome.items = outcome.items.slice(0, MAX_LISTED_ITEMS);
      stores.push(outcome);
    } catch (err) {
      failed.set(t.store, oneLine(err));
      stores.push({ store: t.store, found: 0, changed: 0, action: `failed: ${oneLine(err)}` });
    }
  }
  const report: ErasureReport = {
    id: randomUUID(),
    at: (deps.now?.() ?? new Date()).toISOString(),
    addressDigest: ctx.pseudonyms.auditDigest(request.address),
    tenant: request.tenant ?? null,
    // A reason that quotes the address would put it in the audit: it is kept with the address replaced.
    reason: scrubText(request.reason, request.address, ctx.pseudonyms.text(request.address)),
    requestedBy: request.requestedBy,
    dryRun: ctx.dryRun,
    stores,
    complete: failed.size === 0 && !ctx.dryRun,
  };
  await deps.audit?.record(report);
  return report;
}

/** The report as lines for a terminal: one per store. */
export function formatErasureReport(report: ErasureReport): string {
  const head = `${report.dryRun ? 'Dry run (nothing changed)' : 'Erasure'} ${report.id} at ${report.at}, address ${report.addressDigest.slice(0, 27)}…${report.tenant ? `, tenant ${report.tenant}` : ', every tenant'}`;
  const width = Math.max(...report.stores.map((s) => s.store.length), 5);
  const lines = report.stores.flatMap((s) => {
    const what = s.skipped ? `${s.action} (${s.skipped})` : s.action;
    const line = `  ${s.store.padEnd(width)}  found ${String(s.found).padStart(6)}  changed ${String(s.changed).padStart(6)}  ${what}`;
    // A dry run lists what would change, item by item (file keys, record ids: never the address).
    return report.dryRun ? [line, ...(s.items ?? []).map((i) => `      ${i}`)] : [line];
  });
  const tail = report.complete
    ? 'complete'
    : report.dryRun
      ? 'dry run: run without --dry-run to erase'
      : 'NOT complete: run again';
  return [head, ...lines, `  ${tail}`].join('\n');
}

/** A store this deployment cannot reach from here: listed in the report as skipped, with why. */
export function skippedStore(store: string, why: string): ErasureTarget {
  return { store, erase: async () => ({ store, found: 0, changed: 0, action: 'not reached', skipped: why }) };
}
