import { describeError } from '../../lib/errors';
import { UnknownTenantError } from './errors';
import { type DomainFacts, evaluateTenant } from './evaluator';
import type {
  AwsVerdictSource,
  ComplaintRateSource,
  DnsSource,
  IdentitySource,
  ReadinessStore,
  SendingTenantSource,
  StoredReadiness,
} from './ports';

export interface CheckDeps {
  tenants: SendingTenantSource;
  identities: IdentitySource;
  dns: DnsSource;
  complaints: ComplaintRateSource;
  aws: AwsVerdictSource;
  store: ReadinessStore;
  /** The SES region (the MAIL FROM MX must point to its feedback endpoint). */
  region: string;
  /** Whether marketing mail carries one-click unsubscribe (the Email API's unsubscribe link is configured). */
  oneClickUnsubscribe: boolean;
}

/** Facts about one sending domain: SES's identity, then DNS for the names SES's answer points to. */
async function domainFacts(deps: CheckDeps, domain: string): Promise<DomainFacts> {
  const identity = await deps.identities.identity(domain);
  const dns = await deps.dns.facts({
    domain,
    fromDomain: domain,
    dkimTokens: identity?.dkim.tokens ?? [],
    mailFromDomain: identity?.mailFrom.domain ?? null,
  });
  return { domain, region: deps.region, identity, dns };
}

/** Same verdict and reasons: nothing for the audit. */
const sameOutcome = (a: StoredReadiness | null, b: StoredReadiness) =>
  !!a && a.verdict === b.verdict && JSON.stringify(a.reasons) === JSON.stringify(b.reasons);

/**
 * Checks one tenant: every sending domain's SES identity and DNS, the complaint rate, SES's own verdict; evaluates
 * them, stores the result with the tenant, and audits a change of verdict or reasons. SES's verdict is extra
 * information: a failure to read it leaves it unknown rather than failing the check.
 */
export async function checkTenant(
  deps: CheckDeps,
  tenantId: string,
  opts: { now?: Date; actor?: string } = {},
): Promise<StoredReadiness> {
  const now = opts.now ?? new Date();
  const tenant = await deps.tenants.getTenant(tenantId);
  if (!tenant) throw new UnknownTenantError(tenantId);
  const [domains, complaintRate, awsVerdict, previous] = await Promise.all([
    Promise.all(tenant.sendingDomains.map((d) => domainFacts(deps, d))),
    deps.complaints.complaintRate(tenantId, now),
    deps.aws.verdict(tenant.sesTenantName).catch(() => null),
    deps.store.get(tenantId),
  ]);
  const readiness = evaluateTenant({
    tenantId,
    domains,
    complaintRate,
    oneClickUnsubscribe: deps.oneClickUnsubscribe,
  });
  const checkedAt = now.toISOString();
  const next: StoredReadiness = { ...readiness, checkedAt, changedAt: checkedAt, awsVerdict };
  const changed = !sameOutcome(previous, next);
  if (!changed && previous) next.changedAt = previous.changedAt;
  await deps.store.save(
    next,
    previous,
    changed ? { actor: opts.actor ?? 'sender-auth check', state: tenant.status } : null,
  );
  return next;
}

/** The outcome of checking every tenant: each one's verdict, or the one-line reason its check failed. */
export interface CheckAllResult {
  checked: { tenantId: string; verdict: string }[];
  failed: { tenantId: string; error: string }[];
}

/** Checks every registered tenant, one after the other; one tenant's failure does not stop the others. */
export async function checkAllTenants(
  deps: CheckDeps,
  opts: { now?: Date; actor?: string } = {},
): Promise<CheckAllResult> {
  const out: CheckAllResult = { checked: [], failed: [] };
  for (const tenantId of await deps.tenants.listTenantIds()) {
    try {
      const r = await checkTenant(deps, tenantId, opts);
      out.checked.push({ tenantId, verdict: r.verdict });
    } catch (err) {
      out.failed.push({ tenantId, error: describeError(err) });
    }
  }
  return out;
}
