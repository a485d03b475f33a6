import { copyFileSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openLake } from '../../queries/duckdb-lake';
import type { TenantFigures } from '../api/ports';
import { createDuckDbLiveFigures } from './duckdb-live-figures';

/**
 * Rewrites every raw file of a day in place, under its name (as an erasure does), with the rows `select` gives from
 * `src` (the file, as a DuckDB relation), and a modification time a minute ahead so the new version is seen.
 */
export async function rewriteDayFiles(
  conn: DuckDBConnection,
  lakeDir: string,
  day: string,
  select: (src: string) => string,
): Promise<void> {
  for (const hour of readdirSync(join(lakeDir, 'events', `dt=${day}`))) {
    const folder = join(lakeDir, 'events', `dt=${day}`, hour);
    for (const name of readdirSync(folder)) {
      const file = join(folder, name);
      await conn.run(`COPY (${select(`read_parquet('${file}')`)}) TO '${file}.new' (FORMAT parquet)`);
      rmSync(file);
      copyFileSync(`${file}.new`, file);
      rmSync(`${file}.new`);
      const t = new Date(Date.now() + 60_000);
      utimesSync(file, t, t);
    }
  }
}

/** Copies the first raw file of an hour partition (`events/dt=…/hour=…`) of one lake into another, as a late file. */
export function addLateFile(fromLake: string, toLake: string, hour: string): void {
  const [name] = readdirSync(join(fromLake, hour));
  copyFileSync(join(fromLake, hour, name!), join(toLake, hour, `late-${name}`));
}

/** The live figures at `now` over a whole lake opened now (every raw file read): the answer to match. */
export async function rawLiveFigures(lakeDir: string, now: Date): Promise<TenantFigures[]> {
  const db = await openLake(lakeDir);
  try {
    return await createDuckDbLiveFigures(db, undefined, { cacheMs: 0 }).figures(now);
  } finally {
    db.close();
  }
}
