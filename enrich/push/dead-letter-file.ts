import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { batchesOfBody } from './batches';
import type { BatchLimits } from './config';
import { PushRefusedError } from './errors';
import type { DeadLetterQueue, DeadLetterReason } from './pusher';

/**
 * Refusals that concern the records themselves (a record the platform finds invalid, a batch too large, a tenant it
 * does not take): kept in the dead-letter file. Any other refusal (a wrong key, a wrong URL) concerns every record
 * alike and stops the run instead, since keeping the whole window aside would only hide it.
 */
export const RECORD_REFUSALS: ReadonlySet<number> = new Set([400, 413, 422]);

const LineSchema = z.object({
  body: z.string(),
  status: z.number().int(),
  reason: z.string(),
  idempotencyKey: z.string().nullable(),
  records: z.number().int().min(0),
  tenants: z.array(z.string()).default([]),
  failedAt: z.string(),
});
/** One dead letter of the file: the batch body as it was sent, and why it was refused. */
export type DeadLetterLine = z.infer<typeof LineSchema>;

/** Refused records by tenant (for the summary a backfill or a redrive prints). */
export type RefusedByTenant = Record<string, { records: number; reasons: string[] }>;

/**
 * The local dead-letter file of a backfill without a dead-letter queue (`SESFLOW_REPORTING_URL` only): one JSON line
 * per refused batch, appended as it is refused (mode 0600: records hold addresses), replayed by `sesflow push
 * --redrive`. Batch bodies are kept byte for byte, so a replay carries the same Idempotency-Key.
 */
export class DeadLetterFile implements DeadLetterQueue {
  /** What this process appended, by tenant. */
  readonly refused: RefusedByTenant = {};

  constructor(readonly path: string) {}

  accepts(status: number): boolean {
    return RECORD_REFUSALS.has(status);
  }

  async send(body: string, why: DeadLetterReason): Promise<void> {
    if (!this.accepts(why.status)) {
      throw new PushRefusedError(`External Reporting refused a batch of ${why.records} records: ${why.reason}`);
    }
    const line: DeadLetterLine = { body, ...why, tenants: why.tenants ?? [] };
    mkdirSync(dirname(this.path), { recursive: true });
    appendFileSync(this.path, `${JSON.stringify(line)}\n`, { mode: 0o600 });
    addRefused(this.refused, line);
  }

  /** The file's dead letters (a line that is not one, from a crash mid-write, is skipped and counted). */
  read(): { lines: DeadLetterLine[]; unreadable: number } {
    if (!existsSync(this.path)) return { lines: [], unreadable: 0 };
    const lines: DeadLetterLine[] = [];
    let unreadable = 0;
    for (const text of readFileSync(this.path, 'utf8').split('\n')) {
      if (text.trim() === '') continue;
      let parsed: ReturnType<typeof LineSchema.safeParse>;
      try {
        parsed = LineSchema.safeParse(JSON.parse(text));
      } catch {
        unreadable++;
        continue;
      }
      if (parsed.success) lines.push(parsed.data);
      else unreadable++;
    }
    return { lines, unreadable };
  }
}

function addRefused(into: RefusedByTenant, line: DeadLetterLine): void {
  const tenants = line.tenants.length > 0 ? line.tenants : ['(unknown)'];
  for (const t of tenants) {
    const entry = into[t] ?? { records: 0, reasons: [] };
    into[t] = entry;
    // A batch of several tenants is refused as a whole only when it could not be split: counted under each.
    entry.records += tenants.length === 1 ? line.records : 0;
    if (!entry.reasons.includes(line.reason) && entry.reasons.length < 3) entry.reasons.push(line.reason);
  }
}

/** What a redrive of the file did. */
export interface FileRedriveResult {
  /** Dead letters replayed (dry run: that would be). */
  replayed: number;
  /** Records the platform took this time. */
  delivered: number;
  /** Refused again, kept in the file. */
  refused: RefusedByTenant;
  /** Dead letters still in the file after the redrive. */
  remaining: number;
}

/**
 * Replays the dead-letter file: each batch is settled again through `settle` (which delivers it, isolating refused
 * records, and appends what is refused again to a fresh file); the file is then replaced by the fresh one. A redrive
 * stopped midway leaves the old file in place: replaying it again sends batches the platform may already hold, which
 * their keys make harmless. Duplicate lines (the same key twice) are replayed once.
 */
export async function redriveDeadLetterFile(
  file: DeadLetterFile,
  limits: BatchLimits,
  settle: (
    batch: ReturnType<typeof batchesOfBody>[number],
    again: DeadLetterFile,
  ) => Promise<{ delivered: number; deadLettered: number }>,
  opts: { dryRun?: boolean } = {},
): Promise<FileRedriveResult> {
  const { lines } = file.read();
  const seen = new Set<string>();
  const unique = lines.filter((l) => {
    const key = l.idempotencyKey ?? l.body;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (opts.dryRun) {
    const refused: RefusedByTenant = {};
    for (const l of unique) addRefused(refused, l);
    return { replayed: unique.length, delivered: 0, refused, remaining: unique.length };
  }
  const fresh = new DeadLetterFile(`${file.path}.redrive`);
  rmSync(fresh.path, { force: true });
  let delivered = 0;
  for (const line of unique) {
    for (const batch of batchesOfBody(line.body, limits)) delivered += (await settle(batch, fresh)).delivered;
  }
  const remaining = fresh.read().lines.length;
  if (remaining > 0) renameSync(fresh.path, file.path);
  else rmSync(file.path, { force: true });
  return { replayed: unique.length, delivered, refused: fresh.refused, remaining };
}
