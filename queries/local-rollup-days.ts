import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LAKE_PREFIX } from '../ingest/lake-schema';
import { rollupPrefix } from './rollups';

/** The newest modification time (ms) of the Parquet files under `dir` (-1 when none), temporary files included. */
async function newestParquet(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir, { recursive: true });
  } catch {
    return -1;
  }
  let newest = -1;
  for (const n of names.filter((x) => x.endsWith('.parquet'))) {
    const m = (await stat(join(dir, n)).catch(() => null))?.mtimeMs ?? -1;
    if (m > newest) newest = m;
  }
  return newest;
}

/**
 * The days of a local lake that a named query may read from its rollups (queries/rollups.ts): the day has a `daily`
 * rollup file (written last, the day's commit marker) and no raw file under `events/dt=<day>/` newer than it (a late
 * event, a compaction or an erasure since makes the day stale until its rollups are built again). A raw file being
 * written (a dot-prefixed temporary name) counts too: it is about to change the day.
 */
export async function localRolledUpDays(lakeDir: string): Promise<Set<string>> {
  const out = new Set<string>();
  const dailyDir = join(lakeDir, rollupPrefix('daily'));
  let folders: string[];
  try {
    folders = await readdir(dailyDir);
  } catch {
    return out;
  }
  for (const folder of folders) {
    const day = /^dt=(\d{4}-\d{2}-\d{2})$/.exec(folder)?.[1];
    if (!day) continue;
    const committed = (await readdir(join(dailyDir, folder)).catch(() => [] as string[])).filter(
      (n) => n.endsWith('.parquet') && !basename(n).startsWith('.'),
    );
    if (committed.length === 0) continue;
    const marker = Math.min(
      ...(await Promise.all(committed.map(async (n) => (await stat(join(dailyDir, folder, n))).mtimeMs))),
    );
    if ((await newestParquet(join(lakeDir, LAKE_PREFIX.events, `dt=${day}`))) <= marker) out.add(day);
  }
  return out;
}
