import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventIdSet } from './id-set';

const hexId = (i: number) => createHash('sha256').update(String(i)).digest('hex').slice(0, 32);

describe('EventIdSet', () => {
  it('agrees with a Set<string> on adds and lookups across growth, for hex ids and any other strings', () => {
    const set = new EventIdSet(4);
    const ref = new Set<string>();
    const ids = [
      ...Array.from({ length: 20_000 }, (_, i) => hexId(i)),
      'not-a-hash',
      'ABCDEF0123456789ABCDEF0123456789', // upper case: not the normalised form, kept exactly all the same
      '',
    ];
    for (const id of ids) expect(set.add(id)).toBe(!ref.has(id) && ref.add(id) !== undefined);
    for (const id of ids) expect(set.add(id)).toBe(false);
    expect(set.size).toBe(ref.size);
    for (let i = 0; i < 40_000; i++) expect(set.has(hexId(i))).toBe(i < 20_000);
    expect(set.has('abcdef0123456789abcdef0123456789')).toBe(false);
    expect(set.has('ABCDEF0123456789ABCDEF0123456789')).toBe(true);
  });

  it('tells ids apart that share their first 96 bits', () => {
    const set = new EventIdSet();
    const a = `${'0'.repeat(24)}00000001`;
    const b = `${'0'.repeat(24)}00000002`;
    expect(set.add(a)).toBe(true);
    expect(set.has(b)).toBe(false);
    expect(set.add(b)).toBe(true);
    expect(set.size).toBe(2);
  });

  it('holds the all-zero id, which looks like an empty slot, apart from every other id', () => {
    const set = new EventIdSet(4);
    const zero = '0'.repeat(32);
    expect(set.has(zero)).toBe(false);
    expect(set.add(hexId(1))).toBe(true);
    expect(set.has(zero)).toBe(false);
    expect(set.add(zero)).toBe(true);
    expect(set.add(zero)).toBe(false);
    expect(set.has(zero)).toBe(true);
    for (let i = 2; i < 100; i++) set.add(hexId(i));
    expect(set.has(zero)).toBe(true);
    expect(set.size).toBe(100);
  });

  it('holds a million ids in under 40 bytes each', () => {
    const set = new EventIdSet();
    for (let i = 0; i < 1_000_000; i++) set.add(hexId(i));
    expect(set.size).toBe(1_000_000);
    expect(set.bytes / set.size).toBeLessThan(40);
  });
});
