import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ID_WORDS, idOfWords, idWordsOf, RecordTable, readIdWords } from './record-table';

const idOf = (i: number) => createHash('sha256').update(String(i)).digest('hex').slice(0, 32);

describe('record ids as words', () => {
  it('reads 32 lower-case hex digits and writes them back', () => {
    const out = new Uint32Array(ID_WORDS);
    for (const id of ['0'.repeat(32), 'f'.repeat(32), '0123456789abcdef0123456789abcdef', idOf(1)]) {
      idWordsOf(id, out, 0);
      expect(idOfWords(out, 0)).toBe(id);
    }
  });

  it('refuses anything else', () => {
    const out = new Uint32Array(ID_WORDS);
    for (const bad of ['A'.repeat(32), 'g'.repeat(32), `${'0'.repeat(31)}/`, `${'0'.repeat(31)}:`, ' '.repeat(32)]) {
      expect(readIdWords(Buffer.from(bad, 'latin1'), 0, out, 0)).toBe(false);
    }
    expect(() => idWordsOf('0'.repeat(31), out, 0)).toThrow(TypeError);
    expect(() => idWordsOf('0'.repeat(33), out, 0)).toThrow(TypeError);
  });
});

describe('RecordTable', () => {
  it('finds every id it holds, and none it does not, through growth', () => {
    const t = new RecordTable();
    const w = new Uint32Array(ID_WORDS);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      idWordsOf(idOf(i), w, 0);
      expect(t.find(w, 0)).toBe(-1);
      const r = t.add(w, 0);
      t.revision[r] = i;
      expect(r).toBe(i);
    }
    expect(t.size).toBe(n);
    for (let i = 0; i < n; i++) {
      idWordsOf(idOf(i), w, 0);
      const r = t.find(w, 0);
      expect(r).toBe(i);
      expect(t.revision[r]).toBe(i);
      expect(t.idOf(r)).toBe(idOf(i));
    }
    for (let i = n; i < n + 1000; i++) {
      idWordsOf(idOf(i), w, 0);
      expect(t.find(w, 0)).toBe(-1);
    }
  });

  it('tells apart ids that differ in one word only and ids that hash alike', () => {
    const t = new RecordTable();
    const w = new Uint32Array(ID_WORDS);
    // Same first and last words, and words that cancel out in the mix: all must stay distinct.
    const ids = Array.from({ length: 3000 }, (_, i) => `00000000${i.toString(16).padStart(8, '0')}0000000000000000`);
    ids.push(...Array.from({ length: 3000 }, (_, i) => `${i.toString(16).padStart(8, '0')}000000000000000000000000`));
    ids.push(...Array.from({ length: 3000 }, (_, i) => `000000000000000000000000${i.toString(16).padStart(8, '0')}`));
    const unique = [...new Set(ids)];
    for (const id of unique) {
      idWordsOf(id, w, 0);
      if (t.find(w, 0) < 0) t.add(w, 0);
    }
    expect(t.size).toBe(unique.length);
    for (const id of unique) {
      idWordsOf(id, w, 0);
      expect(t.idOf(t.find(w, 0))).toBe(id);
    }
  });
});
