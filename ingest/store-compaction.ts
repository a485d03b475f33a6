import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CompactSummary, compactLake, partitionHourEnd } from './compact';
import { CHECKED_WRITERS, parseLakeFileName } from './lake-schema';
import type { LakeStore } from './lake-store';

/** What a compaction of a lake in a store did, with the partitions it left alone. */
export interface StoreCompactSummary extends CompactSummary {
  /** Partitions already one compacted file: not downloaded. */
  skipped: number;
}

/** The figures of each partition's compaction that add up to the run's. */
const SUMMED = ['partitions', 'filesBefore', 'filesAfter', 'rowsBefore', 'rowsAfter', 'duplicatesDropped'] as const;

/** The partitions of a store's lake (`events/dt=…/hour=…/`) with their Parquet keys. */
export async function storePartitions(store: LakeStore, dt?: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const key of await store.list(dt ? `events/dt=${dt}/` : 'events/')) {
    const m = /^(events\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2})\/([^/]+\.parquet)$/.exec(key);
    if (!m) continue;
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

/**
 * Compacts a lake held in a store (S3 in AWS) with the code `sesflow compact` runs ({@link compactLake}), one
 * partition at a time: its files are copied into a scratch folder, compacted there, the compacted file is written
 * to the store (an S3 PUT is atomic: readers see it whole or not at all), and only then are the files it replaced
 * deleted, by the keys that were copied and nothing else: a file Firehose delivered meanwhile stays for the next
 * run. While the compacted file and the files it replaced are both there, the `events` view (one row per
 * dt, hour and event_id) counts each event once; a crash in between leaves that state, and the next run merges it.
 *
 * A partition that is already one compacted file is not downloaded (a new compaction layout is applied to such
 * partitions by `sesflow compact` on a copy, or when a late file arrives in them). Partitions of hours not yet
 * closed (`closedBefore`) are left to Firehose.
 */
export async function compactStoreLake(
  store: LakeStore,
  options: {
    closedBefore?: Date;
    dt?: string;
    /** Scratch space (Lambda: /tmp); a folder of its own is made inside and removed after each partition. */
    scratchDir?: string;
    onPartition?: (partition: string, summary: CompactSummary) => void;
  } = {},
): Promise<StoreCompactSummary> {
  const total = Object.fromEntries([...SUMMED, 'skipped'].map((k) => [k, 0])) as unknown as StoreCompactSummary;
  const cutoff = options.closedBefore?.getTime();
  for (const [partition, files] of await storePartitions(store, options.dt)) {
    const end = partitionHourEnd(partition);
    if (cutoff !== undefined && (end === null || end > cutoff)) continue;
    if (files.length === 1 && parseLakeFileName(files[0]!)?.writer === CHECKED_WRITERS.compacted) {
      total.skipped++;
      continue;
    }
    const scratch = mkdtempSync(join(options.scratchDir ?? tmpdir(), 'sesflow-compact-'));
    try {
      const local = join(scratch, partition);
      mkdirSync(local, { recursive: true });
      for (const f of files) writeFileSync(join(local, f), await store.get(`${partition}/${f}`));
      const summary = await compactLake(scratch);
      const written = readdirSync(local).filter((f) => f.endsWith('.parquet') && !files.includes(f));
      // Written first, whole; then the copied keys, and only those, are deleted.
      for (const f of written) await store.put(`${partition}/${f}`, readFileSync(join(local, f)));
      if (written.length > 0) for (const f of files) await store.delete(`${partition}/${f}`);
      for (const k of SUMMED) total[k] += summary[k];
      options.onPartition?.(partition, summary);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return total;
}
