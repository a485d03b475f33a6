import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NormalisedEvent } from '../ingest/normalise';
import { encodeParquet } from '../ingest/parquet-writer';
import { defaultTenants, generateTraffic, type TenantProfile } from '../local/traffic-model';
import { addToPartitions } from '../queries/test-lake';

/** A subject an attacker could put in a mail: it must render as text everywhere. */
export const XSS_SUBJECT = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1"> Deals';

/**
 * Five demo tenants (acme, globex, initech, umbrella = the bad sender, hooli); acme's order confirmations carry
 * {@link XSS_SUBJECT}.
 */
export function testTenants(): TenantProfile[] {
  const tenants = defaultTenants(5);
  const acme = tenants[0]!;
  acme.campaigns = (acme.campaigns ?? []).map((c) =>
    c.id === 'order-confirmation' ? { ...c, subject: XSS_SUBJECT } : c,
  );
  return tenants;
}

export interface TestLake {
  dir: string;
  rows: number;
  records: number;
}

/**
 * Builds a lake the way production does: SES-format records from the traffic model, through the real Firehose
 * transform (`transformRecord`), encoded by the real Parquet writer into `events/dt=/hour=/` files.
 */
export function buildTestLake(opts: {
  messages: number;
  start: Date;
  spanHours?: number;
  seed?: number;
  dir?: string;
}): TestLake {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sesflow-dash-lake-'));
  const byPartition = new Map<string, NormalisedEvent[]>();
  let rows = 0;
  let records = 0;
  const flush = () => {
    for (const [key, list] of byPartition) {
      const p = join(dir, 'events', key);
      mkdirSync(p, { recursive: true });
      writeFileSync(join(p, `test-${records}-${key.replace(/\W/g, '')}.parquet`), encodeParquet(list));
    }
    byPartition.clear();
  };
  for (const record of generateTraffic({
    seed: opts.seed ?? 42,
    tenants: testTenants(),
    messages: opts.messages,
    start: opts.start,
    spanHours: opts.spanHours ?? 24,
  })) {
    records++;
    rows += addToPartitions(record, byPartition);
    if (records % 200_000 === 0) flush();
  }
  flush();
  return { dir, rows, records };
}
