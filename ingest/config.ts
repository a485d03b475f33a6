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
