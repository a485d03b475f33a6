import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { SesV2TenantControl } from '../../enrich/reputation/sesv2-tenant-control';
import { checkTenant } from '../../enrich/sender-auth/check-tenant';
import { composeSenderAuth } from '../../enrich/sender-auth/compose';
import { describeError, SesflowError, UsageError } from '../../lib/errors';
import { type Row, toTable } from '../../lib/tabular';
import { endpointsFilePath, readEndpointsFile } from '../../local/pipeline/endpoints-file';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/stack/clients';
import { onboardTenant } from '../../send/onboarding';
import { TenantRegistry } from '../../send/registry';
import { POLICIES } from '../../tenants/policy';

interface TenantsOptions {
  endpoint?: string;
  sesEndpoint?: string;
  table?: string;
  dataDir?: string;
  dnsServer?: string;
  format: string;
}

interface Target {
  /** undefined: AWS itself (default credentials and region). */
  dynamodb?: string;
  ses?: string;
  table: string;
  eventsStream: string;
  source: string;
  /** DNS servers for the sender-auth checks (the local stack's DNS server; empty: the system's). */
  dnsServers: string[];
  /** Whether the Email API adds one-click unsubscribe links there. */
  oneClickUnsubscribe: boolean;
}

function checkUrl(flag: string, v: string | undefined): void {
  if (v && v !== 'aws' && !/^https?:\/\/[^\s]+$/.test(v))
    throw new UsageError(`${flag} must be an http(s) URL or "aws": ${v}`);
}

/**
 * Where the registry lives: `--endpoint` / `--ses-endpoint` (a URL, or `aws` for AWS itself), else the local stack
 * `sesflow start` is running (its `<data dir>/endpoints.json`), else an error that says how to get one.
 */
function resolveTarget(opts: TenantsOptions, needSes: boolean): Target {
  checkUrl('--endpoint', opts.endpoint);
  checkUrl('--ses-endpoint', opts.sesEndpoint);
  const dataDir = resolve(opts.dataDir ?? process.env.SESFLOW_DATA_DIR ?? '.sesflow');
  const file = opts.endpoint && (!needSes || opts.sesEndpoint) ? null : readEndpointsFile(dataDir);
  const dynamodb = opts.endpoint ?? file?.dynamodb;
  if (!dynamodb) {
    throw new UsageError(
      `no DynamoDB endpoint: start the local stack (\`sesflow start\`), or pass --endpoint <url> (or --endpoint aws)`,
    );
  }
  const ses = opts.sesEndpoint ?? file?.ses ?? (dynamodb === 'aws' ? 'aws' : undefined);
  if (needSes && !ses) throw new UsageError('no SES endpoint: start the local stack, or pass --ses-endpoint <url>');
  return {
    dynamodb: dynamodb === 'aws' ? undefined : dynamodb,
    ses: ses === 'aws' ? undefined : ses,
    table: opts.table ?? process.env.SESFLOW_TABLE ?? file?.resources?.table ?? 'sesflow',
    eventsStream: process.env.SESFLOW_EVENTS_STREAM ?? file?.resources?.eventsStream ?? 'sesflow-events',
    source: opts.endpoint ? '--endpoint' : dynamodb === 'aws' ? 'AWS' : endpointsFilePath(dataDir),
    dnsServers: opts.dnsServer
      ? [opts.dnsServer]
      : file?.dns
        ? [file.dns]
        : (process.env.SESFLOW_DNS_SERVERS ?? '').split(',').filter(Boolean),
    oneClickUnsubscribe: !!(process.env.SESFLOW_UNSUBSCRIBE_URL || file?.unsubscribe),
  };
}

/** Clients for the target: local ones get dummy credentials and the local region; AWS gets the default chain. */
async function withClients<T>(
  target: Target,
  needSes: boolean,
  run: (c: { registry: TenantRegistry; ses: SESv2Client | null; doc: DynamoDBDocumentClient }) => Promise<T>,
): Promise<T> {
  const local = (endpoint: string | undefined) =>
    endpoint ? { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS } : {};
  const ddb = new DynamoDBClient({ ...local(target.dynamodb), maxAttempts: 2 });
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  const ses = needSes ? new SESv2Client({ ...local(target.ses), maxAttempts: 2 }) : null;
  try {
    return await run({ registry: new TenantRegistry(doc, target.table), ses, doc });
  } catch (err) {
    throw explain(err, target);
  } finally {
    ddb.destroy();
    ses?.destroy();
  }
}

/** Connection and missing-table failures, said in terms of what to do. */
function explain(err: unknown, target: Target): unknown {
  const text = JSON.stringify(err instanceof Error ? { n: err.name, m: err.message, c: String(err.cause) } : err);
  if (/ECONNREFUSED|ENOTFOUND|socket hang up/.test(text)) {
    return new UsageError(
      `cannot reach ${target.dynamodb ?? 'AWS'} (from ${target.source}): is \`sesflow start\` running?`,
      { cause: err },
    );
  }
  if (/ResourceNotFoundException/.test(text) && /table/i.test(text)) {
    return new UsageError(`table ${target.table} does not exist at ${target.dynamodb ?? 'AWS'}`, { cause: err });
  }
  return err;
}

/** The sender-auth checks wired to the target's table, SES and DNS. */
async function senderAuthDeps(target: Target, doc: DynamoDBDocumentClient, ses: SESv2Client) {
  return composeSenderAuth({
    doc,
    ses,
    tableName: target.table,
    region: String(await ses.config.region()),
    dnsServers: target.dnsServers,
    oneClickUnsubscribe: target.oneClickUnsubscribe,
  });
}

function print(format: string, value: unknown, rows: Row[]): void {
  if (format === 'json') process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(toTable(rows));
}

function checkFormat(format: string): void {
  if (format !== 'table' && format !== 'json') throw new UsageError('--format must be table or json');
}

export function registerTenants(program: Command): void {
  const tenants = program
    .command('tenants')
    .description('tenant registry: list and onboard tenants, issue and revoke their API keys')
    .option('--endpoint <url>', 'DynamoDB endpoint, or "aws" (default: the running local stack, from endpoints.json)')
    .option('--ses-endpoint <url>', 'SES endpoint for onboarding, or "aws" (default: the local stack\'s SES simulator)')
    .option('--table <name>', "the single table (default: SESFLOW_TABLE, the local stack's, or sesflow)")
    .option('--data-dir <dir>', 'data directory of `sesflow start` (default: SESFLOW_DATA_DIR or ./.sesflow)')
    .option('--format <format>', 'table or json', 'table');
  const common = (cmd: Command): TenantsOptions => {
    const opts = tenants.opts<TenantsOptions>();
    const own = cmd.opts<{ format?: string }>();
    const format = own.format ?? opts.format;
    checkFormat(format);
    return { ...opts, format };
  };
  /** A subcommand that needs the registry alone: its target from the options, and the options for its output. */
  const withRegistry = (cmd: Command, run: (registry: TenantRegistry, opts: TenantsOptions) => Promise<void>) => {
    const opts = common(cmd);
    return withClients(resolveTarget(opts, false), false, ({ registry }) => run(registry, opts));
  };

  tenants
    .command('list')
    .description('every registered tenant with its status, policy and domains')
    .option('--format <format>', 'table or json')
    .action(async (_o, cmd: Command) => {
      await withRegistry(cmd, async (registry, opts) => {
        const all = await registry.listTenants();
        print(
          opts.format,
          all,
          all.map((t) => ({
            tenant: t.tenantId,
            status: t.status,
            since: t.statusSince,
            reason: t.statusReason,
            policy: t.policy,
            configuration_set: t.configurationSet,
            domains: t.sendingDomains.join(' '),
          })),
        );
      });
    });

  tenants
    .command('create <tenant>')
    .description('onboard a tenant: SES tenant, configuration set with its Firehose destination, associations, profile')
    .requiredOption('--domain <domain...>', 'sending domain (repeat or list several)')
    .option('--policy <name>', `reputation policy: ${[...POLICIES.keys()].join(', ')}`, 'standard')
    .option('--configuration-set <name>', 'configuration set (default <tenant>-default)')
    .option('--delivery-stream <name or arn>', "Firehose stream of the lake (default: the local stack's events stream)")
    .option('--firehose-role <arn>', 'role SES assumes for Firehose (AWS: the stack output SesPublishRoleArn)')
    .option('--event-bus <bus>', 'also publish every event to EventBridge: "default" or its ARN (AWS: the live path)')
    .option(
      '--search-stream <name or arn>',
      'also publish every event to this Firehose stream (AWS: the search stream)',
    )
    .option('--format <format>', 'table or json')
    .action(
      async (
        tenantId: string,
        o: {
          domain: string[];
          policy: string;
          configurationSet?: string;
          deliveryStream?: string;
          firehoseRole?: string;
          eventBus?: string;
          searchStream?: string;
        },
        cmd: Command,
      ) => {
        const opts = common(cmd);
        if (!POLICIES.has(o.policy)) {
          throw new UsageError(`unknown policy ${o.policy} (known: ${[...POLICIES.keys()].join(', ')})`);
        }
        const target = resolveTarget(opts, true);
        await withClients(target, true, async ({ registry, ses, doc }) => {
          const out = await onboardTenant(
            { ses: ses!, registry },
            {
              tenantId,
              sendingDomains: o.domain.flatMap((d) => d.split(',')).filter(Boolean),
              policy: o.policy,
              configurationSet: o.configurationSet,
              deliveryStream: o.deliveryStream ?? target.eventsStream,
              firehoseRoleArn: o.firehoseRole,
              eventBus: o.eventBus,
              searchStream: o.searchStream,
              actor: 'sesflow tenants create',
            },
          );
          // Onboarding checks the new tenant's domains at once: a missing DMARC record shows before the first send.
          const readiness = await checkTenant(await senderAuthDeps(target, doc, ses!), tenantId, {
            actor: 'sesflow tenants create',
          }).catch((err: unknown) => ({ verdict: 'not checked', reasons: [describeError(err)] }));
          const c = out.created;
          const news = [
            c.sesTenant && 'SES tenant',
            c.configurationSet && 'configuration set',
            c.eventDestination && 'event destination',
            c.associations > 0 && `${c.associations} association(s)`,
            c.profile && 'profile',
          ].filter(Boolean);
          if (opts.format === 'json') {
            print('json', { ...out, readiness }, []);
            return;
          }
          process.stdout.write(
            `tenant ${tenantId}: ${news.length ? `created ${news.join(', ')}` : 'already onboarded, nothing changed'}\n`,
          );
          process.stdout.write(
            `sender readiness: ${readiness.verdict}${readiness.reasons.map((r) => `\n  ${r}`).join('')}\n`,
          );
          print('table', out, [
            {
              tenant: out.profile.tenantId,
              status: out.profile.status,
              policy: out.profile.policy,
              configuration_set: out.profile.configurationSet,
              domains: out.profile.sendingDomains.join(' '),
              ses_tenant: out.tenantArn,
            },
          ]);
        });
      },
    );

  for (const suspend of [true, false]) {
    tenants
      .command(`${suspend ? 'suspend' : 'unsuspend'} <tenant>`)
      .description(
        suspend
          ? 'suspend a tenant by hand: the send gate refuses it and its SES sending is switched off (audited)'
          : "lift a tenant's suspension: SES sending back on, then status active (audited)",
      )
      .requiredOption('--reason <text>', 'why (audited)')
      .action(async (tenantId: string, o: { reason: string }, cmd: Command) => {
        const opts = common(cmd);
        await withClients(resolveTarget(opts, true), true, async ({ registry, ses }) => {
          // The lifecycle switches SES on before the gate opens, off after it closed.
          const out = await registry.setSuspended(tenantId, suspend, {
            reason: o.reason,
            actor: `sesflow tenants ${cmd.name()}`,
            ses: new SesV2TenantControl(ses!),
          });
          process.stdout.write(`tenant ${tenantId} is ${out.status} since ${out.statusSince}: ${out.statusReason}\n`);
        });
      });
  }

  const many = (v: string, prev: string[] = []) => [...prev, v];
  tenants
    .command('auth <tenant>')
    .description(
      "what the tenant's Email API calls must carry beside the x-api-key: OAuth access tokens of these clients, TLS client certificates of these subjects (audited; none: off)",
    )
    .option('--oauth-client <id>', 'an OAuth 2.0 client id whose tokens the tenant uses (repeatable)', many)
    .option('--mtls-subject <cn>', "a TLS client certificate's subject CN (repeatable)", many)
    .action(async (tenantId: string, o: { oauthClient?: string[]; mtlsSubject?: string[] }, cmd: Command) => {
      await withRegistry(cmd, async (registry, _opts) => {
        const out = await registry.setAuthentication(
          tenantId,
          { oauthClientIds: o.oauthClient ?? [], mtlsSubjects: o.mtlsSubject ?? [] },
          { actor: 'sesflow tenants auth' },
        );
        const list = (xs: string[] | undefined) => (xs?.length ? xs.join(', ') : 'not required');
        process.stdout.write(
          `tenant ${tenantId}: x-api-key required; OAuth clients: ${list(out.oauthClientIds)}; mutual TLS subjects: ${list(out.mtlsSubjects)}\n`,
        );
      });
    });

  tenants
    .command('check <tenant>')
    .description(
      "check the tenant's sending domains now (SES identity, DKIM, SPF / MAIL FROM, DMARC, alignment): ready, at risk or blocked, with what to fix; stored and audited",
    )
    .option(
      '--dns-server <host:port>',
      "DNS server to ask (default: the local stack's, else SESFLOW_DNS_SERVERS or the system's)",
    )
    .option('--format <format>', 'table or json')
    .action(async (tenantId: string, o: { dnsServer?: string }, cmd: Command) => {
      const opts = { ...common(cmd), dnsServer: o.dnsServer };
      if (o.dnsServer && !/^[0-9a-f.:[\]]+$/i.test(o.dnsServer)) {
        throw new UsageError(`--dns-server must be an IP address[:port]: ${o.dnsServer.slice(0, 60)}`);
      }
      const target = resolveTarget(opts, true);
      await withClients(target, true, async ({ ses, doc }) => {
        const deps = await senderAuthDeps(target, doc, ses!);
        let r: Awaited<ReturnType<typeof checkTenant>>;
        try {
          r = await checkTenant(deps, tenantId, { actor: 'sesflow tenants check' });
        } catch (err) {
          if (err instanceof SesflowError) throw new UsageError(describeError(err), { cause: err });
          throw err;
        }
        if (opts.format === 'json') {
          print('json', r, []);
          return;
        }
        process.stdout.write(`tenant ${tenantId}: ${r.verdict}${r.awsVerdict ? ` (AWS: ${r.awsVerdict})` : ''}\n`);
        const tenantReasons = r.reasons.filter((x) => !r.domains.some((d) => x.startsWith(`${d.domain}: `)));
        for (const reason of tenantReasons) process.stdout.write(`  ${reason}\n`);
        print(
          'table',
          r,
          r.domains.flatMap((d) =>
            d.checks.map((c) => ({
              domain: d.domain,
              check: c.id,
              outcome: c.outcome,
              detail: c.detail,
              fix: c.fix ?? null,
            })),
          ),
        );
      });
    });

  /** `<name> <tenant>` under `parent`: one tenant's list, as JSON or as a table of each item's `row`. */
  const tenantListing = <T>(
    parent: Command,
    name: string,
    description: string,
    load: (registry: TenantRegistry, tenantId: string) => Promise<T[]>,
    row: (item: T) => Row,
  ) =>
    parent
      .command(`${name} <tenant>`)
      .description(description)
      .option('--format <format>', 'table or json')
      .action(async (tenantId: string, _o, cmd: Command) => {
        await withRegistry(cmd, async (registry, opts) => {
          const items = await load(registry, tenantId);
          print(opts.format, items, items.map(row));
        });
      });

  tenantListing(
    tenants,
    'audit',
    "the tenant's audit trail: onboarding, keys, suspensions, pauses and resumes, oldest first",
    (registry, tenantId) => registry.listAudit(tenantId),
    (e) => ({ at: e.at, action: e.action, actor: e.actor, from: e.fromState, to: e.toState, reason: e.reason }),
  );

  const key = tenants.command('key').description("a tenant's API keys (the clear key is shown once, at issue)");
  key
    .command('issue <tenant>')
    .description('issue an API key scoped to the tenant; prints the key once (only its SHA-256 is stored)')
    .option('--label <text>', 'what the key is for')
    .option('--format <format>', 'table or json')
    .action(async (tenantId: string, o: { label?: string }, cmd: Command) => {
      await withRegistry(cmd, async (registry, opts) => {
        const issued = await registry.issueKey(tenantId, { label: o.label, actor: 'sesflow tenants key issue' });
        if (opts.format === 'json') {
          print('json', issued, []);
          return;
        }
        process.stdout.write(
          `API key ${issued.keyId} for tenant ${tenantId} (shown once, keep it now):\n${issued.key}\n`,
        );
      });
    });
  tenantListing(
    key,
    'list',
    "the tenant's keys: id, created, revoked (never the key)",
    (registry, tenantId) => registry.listKeys(tenantId),
    (k) => ({ key_id: k.keyId, created: k.createdAt, revoked: k.revokedAt, label: k.label }),
  );
  key
    .command('revoke <tenant> <keyId>')
    .description('revoke a key: the Email API refuses it from now on')
    .option('--reason <text>', 'why (audited)')
    .action(async (tenantId: string, keyId: string, o: { reason?: string }, cmd: Command) => {
      await withRegistry(cmd, async (registry, _opts) => {
        await registry.revokeKey(tenantId, keyId, { reason: o.reason, actor: 'sesflow tenants key revoke' });
        process.stdout.write(`key ${keyId} of tenant ${tenantId} revoked\n`);
      });
    });
  key
    .command('rotate <tenant> <keyId>')
    .description('issue a new key, then revoke the old one; prints the new key once')
    .option('--format <format>', 'table or json')
    .action(async (tenantId: string, keyId: string, _o, cmd: Command) => {
      await withRegistry(cmd, async (registry, opts) => {
        const issued = await registry.rotateKey(tenantId, keyId, { actor: 'sesflow tenants key rotate' });
        if (opts.format === 'json') {
          print('json', issued, []);
          return;
        }
        process.stdout.write(
          `key ${keyId} revoked; new API key ${issued.keyId} (shown once, keep it now):\n${issued.key}\n`,
        );
      });
    });
}
