import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../local/seeded-random';
import type { NormalisedEvent } from './normalise';
import { ColumnBatch, encodeBatches, RowStage } from './parquet-encoder';

/** Rows with every kind of column value: NULLs, short and long strings, non-ASCII, few and many distinct values. */
function makeRows(n: number, seed: number): NormalisedEvent[] {
  const rng = new SeededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const maybe = <T>(v: T): T | null => (rng.int(3) === 0 ? null : v);
  const rows: NormalisedEvent[] = [];
  for (let i = 0; i < n; i++) {
    const tenant = `tenant-${rng.int(40)}`;
    rows.push({
      event_id: rng.int(2) === 0 ? `${i.toString(16).padStart(32, '0')}` : `id-${i}`,
      event_type: pick(['send', 'delivery', 'bounce', 'open', 'click'] as const),
      event_time: 1_780_000_000_000 + rng.int(3_600_000) + 0.75,
      mail_time: maybe(1_780_000_000_000 - rng.int(100_000)),
      message_id: `010001a0-${rng.int(5000)}-message-id-long-enough-to-be-copied-as-a-view`,
      tenant_id: tenant,
      tenant_source: 'tag',
      record_form: 'event',
      configuration_set: maybe(`${tenant}-cs`),
      campaign_id: maybe(pick(['spring', 'été', 'winter-sale', '夏'])),
      message_kind: maybe('marketing'),
      sending_account_id: '111122223333',
      from_domain: `mail.${tenant}.test`,
      // Mostly distinct in some stretches: the column switches to PLAIN part-way through a batch.
      subject: maybe(i % 3000 < 1500 ? `subject ${i} ✉` : pick(['Hello', 'Bonjour', 'Grüße'])),
      recipient: maybe(`r${rng.int(100_000)}@inbox.test`),
      recipient_domain: maybe(pick(['inbox.test', 'gmail.test', 'x.test'])),
      is_simulator: rng.int(10) === 0,
      bounce_type: maybe(pick(['Permanent', 'Transient'])),
      bounce_subtype: null,
      smtp_status: maybe('5.1.1'),
      diagnostic_code: maybe(`smtp; 550 ${rng.int(1000)}`),
      feedback_id: maybe('fb'),
      complaint_feedback_type: null,
      complaint_subtype: null,
      delay_type: null,
      link: maybe(`https://example.test/${rng.int(2000)}`),
      user_agent: maybe(pick(['Mozilla/5.0', 'curl/8'])),
      ip: maybe(`10.0.${rng.int(255)}.${rng.int(255)}`),
      processing_time_ms: maybe(rng.int(5000)),
      machine_open: rng.int(2) === 0,
      counts_toward_bounce_rate: rng.int(2) === 0,
      counts_toward_complaint_rate: false,
      tags: JSON.stringify({ tenant: [tenant], n: [String(rng.int(1_000_000))] }),
      detail: maybe(rng.int(4) === 0 ? `{"k":${i}}` : '{}'),
    });
  }
  return rows;
}

describe('RowStage', () => {
  it('builds byte for byte the batches that appending row by row builds, across drains, resets and partitions', () => {
    const rows = makeRows(30_000, 17);
    const rng = new SeededRandom(5);
    // Random partitions, with runs now and then (as the lake writer mixes staged rows and rows appended at once).
    const parts = 7;
    const partOf: number[] = [];
    for (let i = 0; i < rows.length; ) {
      const p = rng.int(parts);
      const run = rng.int(10) === 0 ? 1 + rng.int(400) : 1;
      for (let k = 0; k < run && i < rows.length; k++, i++) partOf.push(p);
    }
    const direct = Array.from({ length: parts }, () => new ColumnBatch());
    const staged = Array.from({ length: parts }, () => new ColumnBatch());
    const stage = new RowStage();
    const filesDirect: Uint8Array[] = [];
    const filesStaged: Uint8Array[] = [];
    for (let i = 0; i < rows.length; i++) {
      const p = partOf[i]!;
      direct[p]!.add(rows[i]!);
      // Every fifth run goes straight in after a drain, as LakeWriter does for long runs.
      if (i % 5 === 0) {
        stage.drain();
        staged[p]!.add(rows[i]!);
      } else stage.add(rows[i]!, staged[p]!);
      // Now and then a partition is encoded and emptied (a spill): the stage drains first.
      if (i % 4_999 === 4_998) {
        stage.drain();
        filesDirect.push(encodeBatches([direct[p]!]));
        filesStaged.push(encodeBatches([staged[p]!]));
        direct[p]!.reset();
        staged[p]!.reset();
      }
    }
    stage.drain();
    expect(stage.rows).toBe(0);
    for (let p = 0; p < parts; p++) {
      expect(staged[p]!.rows).toBe(direct[p]!.rows);
      filesDirect.push(encodeBatches([direct[p]!]));
      filesStaged.push(encodeBatches([staged[p]!]));
    }
    expect(filesStaged.length).toBe(filesDirect.length);
    for (let f = 0; f < filesDirect.length; f++) {
      expect(Buffer.from(filesStaged[f]!).equals(Buffer.from(filesDirect[f]!))).toBe(true);
    }
  });

  it('drains by itself when full, keeping no row', () => {
    const rows = makeRows(9_000, 3);
    const batch = new ColumnBatch();
    const stage = new RowStage();
    for (const row of rows) stage.add(row, batch);
    expect(batch.rows).toBe(8_192);
    expect(stage.rows).toBe(9_000 - 8_192);
    stage.drain();
    expect(batch.rows).toBe(9_000);
  });
});
