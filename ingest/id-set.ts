/**
 * A set of event ids in about 21 bytes each instead of about 75 (a JS string in a Set): event ids are 128-bit hex
 * (32 characters, see normalise.ts), held here as four 32-bit words in one open-addressing table. Ids of any other
 * shape (none are written today) go to an ordinary Set, so membership stays exact for every string.
 */
export class EventIdSet {
  private words: Uint32Array;
  private used: Uint8Array;
  private mask: number;
  private count = 0;
  private readonly other = new Set<string>();
  private readonly key = new Uint32Array(4);

  constructor(capacity = 1024) {
    let slots = 16;
    while (slots * 0.6 < capacity) slots *= 2;
    this.words = new Uint32Array(slots * 4);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.count + this.other.size;
  }

  /** Bytes held, for the memory budget. */
  get bytes(): number {
    return this.words.byteLength + this.used.byteLength + this.other.size * 80;
  }

  has(id: string): boolean {
    if (!this.parse(id)) return this.other.has(id);
    return this.find() >= 0;
  }

  /** Adds an id; returns false when it was already there. */
  add(id: string): boolean {
    if (!this.parse(id)) {
      if (this.other.has(id)) return false;
      this.other.add(id);
      return true;
    }
    if (this.find() >= 0) return false;
    if ((this.count + 1) / this.used.length > 0.6) this.grow();
    this.insert();
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

  /** The key's slot if present, else -1. The ids are hashes already: their first word is a good table index. */
  private find(): number {
    const k = this.key;
    const words = this.words;
    let slot = k[0]! & this.mask;
    while (this.used[slot]) {
      const o = slot * 4;
      if (words[o] === k[0] && words[o + 1] === k[1] && words[o + 2] === k[2] && words[o + 3] === k[3]) return slot;
      slot = (slot + 1) & this.mask;
    }
    return -1;
  }

  private insert(k: Uint32Array = this.key): void {
    let slot = k[0]! & this.mask;
    while (this.used[slot]) slot = (slot + 1) & this.mask;
    this.words.set(k, slot * 4);
    this.used[slot] = 1;
    this.count++;
  }

  private grow(): void {
    const oldWords = this.words;
    const oldUsed = this.used;
    const slots = oldUsed.length * 2;
    this.words = new Uint32Array(slots * 4);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
    this.count = 0;
    // Its own key buffer: `key` holds the id being added while the table grows.
    const k = new Uint32Array(4);
    for (let s = 0; s < oldUsed.length; s++) {
      if (!oldUsed[s]) continue;
      k[0] = oldWords[s * 4]!;
      k[1] = oldWords[s * 4 + 1]!;
      k[2] = oldWords[s * 4 + 2]!;
      k[3] = oldWords[s * 4 + 3]!;
      this.insert(k);
    }
  }
}
