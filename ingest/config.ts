/**
 * Configuration of the ingest area, read once from the environment.
 * `SESFLOW_CONFIG_SET_TENANTS`: optional JSON object mapping configuration set names to tenants, the last resort of
 * tenant resolution (DESIGN.md). Invalid JSON names the variable.
 */
export interface IngestConfig {
  configSetTenants: ReadonlyMap<string, string>;
}

export function readIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  return { configSetTenants: parseConfigSetTenants(env.SESFLOW_CONFIG_SET_TENANTS, 'SESFLOW_CONFIG_SET_TENANTS') };
}

export function parseConfigSetTenants(json: string | undefined, name: string): ReadonlyMap<string, string> {
  if (!json) return new Map();
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`${name} is not valid JSON (expected {"configuration-set": "tenant", ...})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${name} must be a JSON object of configuration set -> tenant`);
  }
  return new Map(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Configuration of the scheduled compaction (ingest/compact.handler.ts), from serverless.yml. */
export interface CompactConfig {
  /** `SESFLOW_LAKE_BUCKET`: the lake's bucket. */
  lakeBucket: string;
  /** `SESFLOW_COMPACT_CLOSED_AFTER_MINUTES`: an hour is compacted once it ended this long ago (Firehose is done). */
  closedAfterMinutes: number;
}

export function readCompactConfig(env: NodeJS.ProcessEnv = process.env): CompactConfig {
  const lakeBucket = env.SESFLOW_LAKE_BUCKET;
  if (!lakeBucket) throw new Error('SESFLOW_LAKE_BUCKET is not set (the lake bucket)');
  const raw = env.SESFLOW_COMPACT_CLOSED_AFTER_MINUTES ?? '60';
  const closedAfterMinutes = Number(raw);
  if (!Number.isInteger(closedAfterMinutes) || closedAfterMinutes < 0)
    throw new Error(`SESFLOW_COMPACT_CLOSED_AFTER_MINUTES must be a whole number of minutes, not ${raw}`);
  return { lakeBucket, closedAfterMinutes };
}
