import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecipientEraser } from '../../dashboards/api/ports';
import { describeError } from '../../lib/errors';
import { ErasureRequestError } from '../../privacy/errors';
import { parseErasureRequest } from '../../privacy/request';
import type { PipelineService } from '../pipeline/service';
import { createLocalErasure } from '../privacy/local-erasure';
import { LOCAL_REPORTING_KEY_FILE } from './push';

/**
 * The erasure of `sesflow start`: every store of the running stack (the lake directory, DynamoDB Local, the local
 * External Reporting receiver, the SES simulator's suppression lists), offered to the dashboard's
 * `POST /v1/erasures` as `recipientEraser`. One erasure at a time.
 */
export function erasurePipelineService(): PipelineService {
  return {
    name: 'erasure',
    async start(ctx) {
      let queue: Promise<unknown> = Promise.resolve();
      const eraser: RecipientEraser = {
        forget(input) {
          const run = async () => {
            let request: ReturnType<typeof parseErasureRequest>;
            try {
              request = parseErasureRequest(input);
            } catch (err) {
              if (err instanceof ErasureRequestError) return { ok: false as const, error: err.message };
              throw err;
            }
            const receiver = ctx.shared.reportingReceiver;
            let reportingKey: string | undefined;
            try {
              reportingKey = readFileSync(join(ctx.dataDir, LOCAL_REPORTING_KEY_FILE), 'utf8').trim();
            } catch {
              reportingKey = undefined;
            }
            const erasure = createLocalErasure({
              dataDir: ctx.dataDir,
              lakeDir: ctx.lakeDir,
              endpoints: { ...ctx.endpoints, reporting: receiver?.url },
              table: ctx.resources.table,
              reportingKey,
            });
            try {
              return { ok: true as const, report: await erasure.forget(request, input.dryRun) };
            } catch (err) {
              return { ok: false as const, error: describeError(err) };
            } finally {
              erasure.close();
            }
          };
          const next = queue.then(run, run);
          queue = next.catch(() => undefined);
          return next;
        },
      };
      ctx.shared.recipientEraser = eraser;
      return undefined;
    },
  };
}
