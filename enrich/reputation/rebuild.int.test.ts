import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsLakeStore } from '../../ingest/fs-lake-store';
import { LakeWriter } from '../../ingest/lake-writer';
import type { NormalisedEvent } from '../../ingest/normalise';
import { testBounce, testEvent, testMail } from '../../ingest/test-events';
import { transformRecord } from '../../ingest/transform';
import { openLake } from '../../queries/duckdb-lake';
import { rebuildReputation } from './rebuild';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function rows(record: unknown): NormalisedEvent[] {
  const t = transformRecord(JSON.stringify(record));
  if (!t.ok) throw new Error(t.reason);
  return t.rows;
}

/** `sent` single-recipient messages of a tenant at `time`, `hard` of them bouncing, to a given domain. */
function traffic(tenant: string, sent: number, hard: number, time: string, domain = 'inbox.test'): NormalisedEvent[] {
  const out: NormalisedEvent[] = [];
  for (let i = 0; i < sent; i++) {
    const to = `r${i}@${domain}`;
    const mail = testMail({
      messageId: `${tenant}-${time}-${i}`,
      timestamp: time,
      destination: [to],
      tags: { tenant: [tenant] },
    });
    out.push(...rows(testEvent('Send', 'send', {}, mail)));
    if (i < hard) {
      const b = testBounce(
        'Permanent',
        'General',
        [{ emailAddress: to, diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
        mail,
      );
      (b.bounce as Record<string, unknown>).timestamp = time;
      out.push(...rows(b));
    }
  }
  return out;
}

async function lakeOf(all: NormalisedEvent[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sesflow-rep-'));
  dirs.push(dir);
  const w = new LakeWriter({ store: new FsLakeStore(dir), stream: 'test' });
  w.addRows(all);
  await w.close();
  return dir;
}

describe('rebuild from the lake', () => {
  it('pauses a tenant bouncing at 8 %, never a clean one, and shows the evidence', async () => {
    const lake = await lakeOf([
      ...traffic('bad', 1000, 80, '2026-06-07T10:00:00.000Z', 'typo-domain.test'),
      ...traffic('clean', 1000, 5, '2026-06-07T10:00:00.000Z'),
    ]);
    const db = await openLake(lake);
    const rep = await rebuildReputation(db, { at: new Date('2026-06-08T00:00:00Z') });
    db.close();
    const bad = rep.find((r) => r.tenant_id === 'bad')!;
    const clean = rep.find((r) => r.tenant_id === 'clean')!;
    expect([bad.state, bad.sent, bad.hard_bounces]).toEqual(['paused', 1000, 80]);
    expect(bad.evidence.topDomains[0]).toEqual({ name: 'typo-domain.test', count: 80 });
    expect(bad.evidence.topDiagnosticCodes[0]!.name).toContain('5.1.1');
    expect(bad.reasons[0]).toContain('lower bound');
    expect(clean.state).toBe('active');
  });

  it('events outside the 7-day window, simulator traffic and suppression-list bounces do not count', async () => {
    const old = traffic('t', 500, 100, '2026-05-20T10:00:00.000Z');
    const sim: NormalisedEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const mail = testMail({
        messageId: `sim-${i}`,
        destination: ['bounce@simulator.amazonses.com'],
        tags: { tenant: ['t'] },
      });
      sim.push(...rows(testEvent('Send', 'send', {}, mail)));
      sim.push(...rows(testBounce('Permanent', 'General', [{ emailAddress: 'bounce@simulator.amazonses.com' }], mail)));
    }
    const suppressed: NormalisedEvent[] = [];
    for (let i = 0; i < 100; i++) {
      const mail = testMail({ messageId: `sup-${i}`, destination: [`s${i}@x.test`], tags: { tenant: ['t'] } });
      suppressed.push(
        ...rows(testBounce('Permanent', 'OnAccountSuppressionList', [{ emailAddress: `s${i}@x.test` }], mail)),
      );
    }
    const recent = traffic('t', 300, 3, '2026-06-07T10:00:00.000Z');
    const lake = await lakeOf([...old, ...sim, ...suppressed, ...recent]);
    const db = await openLake(lake);
    const [t] = await rebuildReputation(db, { at: new Date('2026-06-08T00:00:00Z') });
    db.close();
    expect([t!.sent, t!.hard_bounces, t!.state]).toEqual([300, 3, 'active']);
  });

  it('a late bounce counts in the hour it happened, and a resume re-arms the window', async () => {
    const lake = await lakeOf(traffic('t', 1000, 100, '2026-06-07T10:00:00.000Z'));
    const db = await openLake(lake);
    const before = await rebuildReputation(db, { at: new Date('2026-06-07T09:59:59Z') });
    const after = await rebuildReputation(db, { at: new Date('2026-06-07T10:00:00Z') });
    const rearmed = await rebuildReputation(db, {
      at: new Date('2026-06-08T00:00:00Z'),
      armedSince: () => new Date('2026-06-07T11:00:00Z'),
    });
    db.close();
    expect(before).toEqual([]);
    expect(after[0]!.state).toBe('paused');
    expect(rearmed).toHaveLength(1);
    expect([rearmed[0]!.sent, rearmed[0]!.state]).toEqual([0, 'active']);
  });
});
