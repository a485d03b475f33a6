import { type CheckAllResult, type CheckDeps, checkAllTenants } from '../../enrich/sender-auth/check-tenant';
import { composeSenderAuth } from '../../enrich/sender-auth/compose';
import { describeError } from '../../lib/errors';
import { ensureTable } from '../../lib/table-design';
import { type PipelineService, serviceNeeding } from '../pipeline/service';

export interface SenderAuthServiceOptions {
  /** How often every tenant is checked again (default one hour; 0: only at start). */
  everyMs?: number;
}

/** One line about a run of the checks: counts per verdict, and each failure (tenant id and reason only). */
export function summariseChecks(r: CheckAllResult): string {
  const counts = new Map<string, number>();
  for (const c of r.checked) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1);
  const verdicts = [...counts].map(([v, n]) => `${n} ${v}`).join(', ') || 'no tenant';
  const failed = r.failed.map((f) => `${f.tenantId} (${f.error})`).join('; ');
  return `sender-auth: ${verdicts}${failed ? `; not checked: ${failed}` : ''}`;
}

/**
 * The sender-auth checks as a service of `sesflow start`: every registered tenant is checked once at start (so the
 * dashboards show readiness from the first page) and then on a timer, as the scheduled Lambda does in AWS, with DNS
 * asked of the local DNS server (`endpoints.dns`). Starts after the Email API, which registers the demo tenants and
 * says whether one-click unsubscribe is configured.
 */
export function senderAuthPipelineService(opts: SenderAuthServiceOptions = {}): PipelineService {
  return serviceNeeding(
    'sender-auth',
    { clients: ['dynamodb', 'documentClient', 'ses'], endpoints: ['dns'] },
    async (ctx, { dynamodb, documentClient, ses }, { dns }) => {
      await ensureTable(dynamodb, ctx.resources.table);
      const emailApi = ctx.shared.emailApi;
      const deps = composeSenderAuth({
        doc: documentClient,
        ses,
        tableName: ctx.resources.table,
        region: String(await ses.config.region()),
        dnsServers: [dns],
        oneClickUnsubscribe: !!emailApi?.unsubscribeUrl,
      });
      let running: Promise<void> | null = null;
      const run = () => {
        running ??= checkAllTenants(deps, { actor: 'sesflow start' })
          .then((r) => ctx.log(summariseChecks(r)))
          .catch((err: unknown) => ctx.log(`sender-auth: checks failed: ${describeError(err)}`))
          .finally(() => {
            running = null;
          });
        return running;
      };
      await run();
      const everyMs = opts.everyMs ?? 3_600_000;
      const timer = everyMs > 0 ? setInterval(() => void run(), everyMs) : null;
      timer?.unref();
      ctx.shared.senderAuth = { deps, run };
      return {
        async stop() {
          if (timer) clearInterval(timer);
          await running;
        },
      };
    },
  );
}

/** What the sender-auth service hands on (tests; a check on demand). */
export interface LocalSenderAuth {
  deps: CheckDeps;
  run(): Promise<void>;
}
