import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Locates the project's shared reference folder (`../shared` beside the checkout), which holds the
 * real-format SES event fixtures. Tests read them in place and skip, saying why, where it is absent.
 */
export const sharedDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared');
export const sesEventsDir = join(sharedDir, 'ses-events');
export const realworldFile = join(sharedDir, 'ses-events-realworld', 'records.ndjson');
export const hasSharedFixtures = existsSync(sesEventsDir);
export const hasRealworld = existsSync(realworldFile);

/** The one-per-type SES example events, by file name without `.json`. */
export function loadSesEventFixtures(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const f of readdirSync(sesEventsDir)) {
    if (!f.endsWith('.json')) continue;
    out[f.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(sesEventsDir, f), 'utf8'));
  }
  return out;
}

/** The real-world records, one string per line (1-based line numbers match SOURCES.md). */
export function loadRealworldLines(): string[] {
  return readFileSync(realworldFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}
