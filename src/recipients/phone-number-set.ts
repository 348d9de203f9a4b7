/**
 * A set of E.164 numbers: those an import has already seen, so a number repeated anywhere in a
 * file is recognised without asking PostgreSQL (an index probe per row cost a fifth of the
 * database's time per row, and the database is what limits the import), and the tenant's
 * suppression list.
 *
 * A number is held as one double (`+` and at most 15 digits: below 2^53, so exact) in an
 * open-addressing table of Float64Array slots, 0 marking a free slot (no E.164 number is 0). That
 * is 8–16 bytes per number (at 1M numbers: 16 MB), where a `Set<string>` of the same numbers takes
 * over 60 MB of V8 heap.
 */
export class PhoneNumberSet {
  private slots: Float64Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1 << 14) {
    this.slots = new Float64Array(initialCapacity);
    this.mask = initialCapacity - 1;
  }

  get size(): number {
    return this.count;
  }

  has(e164: string): boolean {
    return this.slots[this.find(toKey(e164))] !== 0;
  }

  /** Adds an E.164 number; false when it was already in the set. */
  add(e164: string): boolean {
    const key = toKey(e164);
    const i = this.find(key);
    if (this.slots[i] !== 0) return false;
    this.slots[i] = key;
    if (++this.count * 4 > this.slots.length * 3) this.grow();
    return true;
  }

  /** The slot holding `key`, or the free slot where it belongs. */
  private find(key: number): number {
    let i = hash(key) & this.mask;
    while (this.slots[i] !== 0 && this.slots[i] !== key) i = (i + 1) & this.mask;
    return i;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    this.mask = this.slots.length - 1;
    for (const key of old) {
      if (key === 0) continue;
      let i = hash(key) & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = key;
    }
  }
}

function toKey(e164: string): number {
  if (!/^\+[1-9]\d{0,14}$/.test(e164)) throw new Error(`Not an E.164 number: ${e164.slice(0, 32)}`);
  return Number(e164.slice(1));
}

/** Mixes both 32-bit halves of the number (murmur3's finaliser). */
function hash(key: number): number {
  let h = Math.imul((key % 0x100000000) ^ Math.floor(key / 0x100000000), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * A Bloom filter of E.164 numbers: "certainly not seen" or "maybe seen", in ~10 bits per expected
 * number (1% false positives at the expected count, k = 7). The import keeps one per upload, sized
 * from the upload's size, instead of an exact set (16–24 MB at 1M numbers): a "maybe" row goes
 * through the database's exact check, which is cheap for the few rows that take that path.
 */
export class PhoneNumberFilter {
  private readonly bits: Uint32Array;
  private readonly size: number;

  constructor(expected: number) {
    // Whole 32-bit words, at least 1024 bits.
    this.size = Math.max(1024, Math.ceil((Math.max(1, expected) * BITS_PER_NUMBER) / 32) * 32);
    this.bits = new Uint32Array(this.size / 32);
  }

  get bytes(): number {
    return this.bits.byteLength;
  }

  /** Adds a number; false when it was certainly not in the filter before. */
  add(e164: string): boolean {
    const key = toKey(e164);
    // Double hashing (Kirsch–Mitzenmacher): position i = h1 + i·h2.
    const h1 = hash(key) >>> 0;
    const h2 = (hash(key + 0x9e3779b9) >>> 0) | 1;
    let maybe = true;
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const at = bit % this.size;
      const mask = 1 << (at & 31);
      const word = at >>> 5;
      if ((this.bits[word] & mask) === 0) {
        maybe = false;
        this.bits[word] |= mask;
      }
    }
    return !maybe;
  }
}

const BITS_PER_NUMBER = 10;
const HASHES = 7;
