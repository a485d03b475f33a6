import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { secretSource } from '../../lib/secret-source';
import { PushConfigError } from './errors';

/** Where External Reporting is and the `x-api-key` it takes. */
export interface ReportingTarget {
  url: string;
  apiKey: string;
}

/** A source of the current target: asked before each batch of work; cheap while its cache is fresh. */
export type ReportingTargetSource = () => Promise<ReportingTarget>;

/** The secret's JSON: `{"url": "https://...", "apiKey": "..."}` (docs/OPERATIONS.md, rotating keys). */
export const reportingSecretSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  apiKey: z.string().min(1),
});

/** How long a read secret is used before it is read again, unless `SESFLOW_REPORTING_SECRET_MAX_AGE_SECONDS` says. */
export { DEFAULT_SECRET_MAX_AGE_SECONDS } from '../../lib/secret-source';

/**
 * The target read from Secrets Manager when the function runs (never resolved into its environment), through
 * Powertools' SecretsProvider: cached for `maxAgeSeconds`, then read again, so a rotated key is in use at most that
 * long after rotation without a deploy. A secret that is missing fields fails with one line naming the secret.
 */
export function secretTargetSource(opts: {
  secretId: string;
  maxAgeSeconds: number;
  client?: SecretsManagerClient;
}): ReportingTargetSource {
  const read = secretSource({ ...opts, json: true });
  return async () => {
    const raw = await read();
    const parsed = reportingSecretSchema.safeParse(raw);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => i.path.join('.') || 'value').join(', ');
      throw new PushConfigError(`secret ${opts.secretId} is not {"url", "apiKey"} (check ${fields})`);
    }
    return parsed.data;
  };
}

/** A fixed target (local runs and tests: `SESFLOW_REPORTING_URL` + `SESFLOW_REPORTING_API_KEY`). */
export function fixedTargetSource(target: ReportingTarget): ReportingTargetSource {
  return async () => target;
}
