/**
 * Record ids (32 lower-case hex digits, as the contract requires) as four 32-bit words, the form the receiver keeps
 * them in: a hundred thousand ids are then no hundred thousand strings and map entries for the collector to trace.
 */
export const ID_WORDS = 4;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x61 + c] = 10 + c;

/**
 * Reads the 32 hex digits at `b[p, p + 32)` into `out[o, o + 4)`; false if one of them is not `0-9a-f` (`out` may then
 * be partly written).
 */
export function readIdWords(b: Uint8Array, p: number, out: Uint32Array, o: number): boolean {
  for (let w = 0; w < ID_WORDS; w++) {
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const d = HEX[b[p + w * 8 + i]!]!;
      if (d < 0) return false;
      v = (v << 4) | d;
    }
    out[o + w] = v >>> 0;
  }
  return true;
}

/** The words of an id known to match `^[0-9a-f]{32}$`. */
export function idWordsOf(id: string, out: Uint32Array, o: number): void {
  if (!readIdWords(Buffer.from(id, 'latin1'), 0, out, o) || id.length !== 32) {
    throw new TypeError(`not a record id: ${id.slice(0, 40)}`);
  }
}

/** The id whose words are at `words[o, o + 4)`. */
export function idOfWords(words: Uint32Array, o: number): string {
  let s = '';
  for (let w = 0; w < ID_WORDS; w++) s += words[o + w]!.toString(16).padStart(8, '0');
  return s;
}

function grown<T extends Int32Array | Uint32Array | Float64Array>(a: T, size: number): T {
  if (size <= a.length) return a;
  const next = new (a.constructor as new (n: number) => T)(Math.max(size, a.length * 2));
  next.set(a);
  return next;
}

/**
 * The records a receiver holds, by id: for each, where its highest revision is (a batch number and an index in it),
 * that revision, and counts; in typed arrays with an open-addressing hash table over the id words, so storing a
 * record allocates nothing (a `Map` from id strings to objects cost a string, an object and a map entry per record,
 * all traced by the collector again and again).
 */
export class RecordTable {
  /** Record number -> id words. */
  private words = new Uint32Array(ID_WORDS * 1024);
  /** Hash slot -> record number + 1 (0: empty). */
  private slots = new Int32Array(2048);
  batch = new Int32Array(1024);
  index = new Int32Array(1024);
  revision = new Float64Array(1024);
  deliveries = new Int32Array(1024);
  stale = new Int32Array(1024);
  size = 0;

  private slotOf(words: Uint32Array, o: number): number {
    const mask = this.slots.length - 1;
    // Ids are digests, so their words are already spread; mixed all the same, as any client may send any id.
    let h =
      (words[o]! ^ Math.imul(words[o + 1]!, 0x9e3779b1) ^ Math.imul(words[o + 2]!, 0x85ebca6b) ^ words[o + 3]!) >>> 0;
    h ^= h >>> 16;
    let slot = h & mask;
    for (;;) {
      const r = this.slots[slot]! - 1;
      if (r < 0) return slot;
      const k = r * ID_WORDS;
      const w = this.words;
      if (w[k] === words[o] && w[k + 1] === words[o + 1] && w[k + 2] === words[o + 2] && w[k + 3] === words[o + 3]) {
        return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** The record number of the id at `words[o, o + 4)`, or -1. */
  find(words: Uint32Array, o: number): number {
    return this.slots[this.slotOf(words, o)]! - 1;
  }

  /** Adds the id at `words[o, o + 4)` (not held yet): its record number, with zero counts. */
  add(words: Uint32Array, o: number): number {
    if ((this.size + 1) * 2 > this.slots.length) this.rehash();
    const slot = this.slotOf(words, o);
    const r = this.size++;
    if (this.size > this.batch.length) this.grow();
    const k = r * ID_WORDS;
    this.words[k] = words[o]!;
    this.words[k + 1] = words[o + 1]!;
    this.words[k + 2] = words[o + 2]!;
    this.words[k + 3] = words[o + 3]!;
    this.deliveries[r] = 0;
    this.stale[r] = 0;
    this.slots[slot] = r + 1;
    return r;
  }

  /** Twice the room for records. */
  private grow(): void {
    const n = this.batch.length * 2;
    this.words = grown(this.words, n * ID_WORDS);
    this.batch = grown(this.batch, n);
    this.index = grown(this.index, n);
    this.revision = grown(this.revision, n);
    this.deliveries = grown(this.deliveries, n);
    this.stale = grown(this.stale, n);
  }

  /** The id of record number `r`. */
  idOf(r: number): string {
    return idOfWords(this.words, r * ID_WORDS);
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let r = 0; r < this.size; r++) this.slots[this.slotOf(this.words, r * ID_WORDS)] = r + 1;
  }
}
