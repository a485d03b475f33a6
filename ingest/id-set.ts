/**
 * A set of event ids in 16 bytes a slot (27-53 bytes an id) instead of about 75 (a JS string in a Set): event ids are
 * 128-bit hex (32 characters, see normalise.ts), held here as four 32-bit words in one open-addressing table, with no
 * side table, so that a lookup reads one cache line (input in random time order looks up ids in hundreds of tables). Ids of any other
 * shape (none are written today) go to an ordinary Set, so membership stays exact for every string.
 */
export class EventIdSet {
  /** Four words a slot; an all-zero slot is empty (the all-zero id itself is `hasZero`). */
  private words: Uint32Array;
  private mask: number;
  private count = 0;
  private hasZero = false;
  private readonly other = new Set<string>();
  private readonly key = new Uint32Array(4);

  constructor(capacity = 1024) {
    let slots = 16;
    while (slots * 0.6 < capacity) slots *= 2;
    this.words = new Uint32Array(slots * 4);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.count + (this.hasZero ? 1 : 0) + this.other.size;
  }

  /** Bytes held, for the memory budget. */
  get bytes(): number {
    return this.words.byteLength + this.other.size * 80;
  }

  has(id: string): boolean {
    if (!this.parse(id)) return this.other.has(id);
    if (this.isZero()) return this.hasZero;
    return !this.emptyAt(this.probe());
  }

  /** Adds an id; returns false when it was already there. */
  add(id: string): boolean {
    if (!this.parse(id)) {
      if (this.other.has(id)) return false;
      this.other.add(id);
      return true;
    }
    if (this.isZero()) {
      if (this.hasZero) return false;
      this.hasZero = true;
      return true;
    }
    // One probe finds the id or the empty slot it goes in: one cache line of one array per lookup.
    let slot = this.probe();
    if (!this.emptyAt(slot)) return false;
    if ((this.count + 1) / (this.mask + 1) > 0.6) {
      this.grow();
      slot = this.probe();
    }
    this.words.set(this.key, slot * 4);
    this.count++;
    return true;
  }

  /** Reads a 32-hex-character id into `key`; false for any other shape. */
  private parse(id: string): boolean {
    if (id.length !== 32) return false;
    const k = this.key;
    for (let w = 0; w < 4; w++) {
      let v = 0;
      for (let i = w * 8; i < w * 8 + 8; i++) {
        const c = id.charCodeAt(i);
        const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
        if (d < 0) return false;
        v = (v << 4) | d;
      }
      k[w] = v >>> 0;
    }
    return true;
  }

  private isZero(): boolean {
    const k = this.key;
    return (k[0]! | k[1]! | k[2]! | k[3]!) === 0;
  }

  private emptyAt(slot: number): boolean {
    const w = this.words;
    const o = slot * 4;
    return (w[o]! | w[o + 1]! | w[o + 2]! | w[o + 3]!) === 0;
  }

  /**
   * The slot holding `key` (never all zeros), or the empty slot where it would go. The ids are hashes already: their
   * first word is a good table index.
   */
  private probe(): number {
    const k = this.key;
    const words = this.words;
    let slot = k[0]! & this.mask;
    for (;;) {
      const o = slot * 4;
      const w0 = words[o]!;
      const w1 = words[o + 1]!;
      const w2 = words[o + 2]!;
      const w3 = words[o + 3]!;
      if ((w0 === k[0] && w1 === k[1] && w2 === k[2] && w3 === k[3]) || (w0 | w1 | w2 | w3) === 0) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.words;
    const slots = (this.mask + 1) * 2;
    const words = new Uint32Array(slots * 4);
    const mask = slots - 1;
    for (let o = 0; o < old.length; o += 4) {
      if ((old[o]! | old[o + 1]! | old[o + 2]! | old[o + 3]!) === 0) continue;
      let slot = old[o]! & mask;
      while ((words[slot * 4]! | words[slot * 4 + 1]! | words[slot * 4 + 2]! | words[slot * 4 + 3]!) !== 0) {
        slot = (slot + 1) & mask;
      }
      words.set(old.subarray(o, o + 4), slot * 4);
    }
    this.words = words;
    this.mask = mask;
  }
}
