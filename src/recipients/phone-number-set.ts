/**
 * A set of E.164 numbers: those an import has already seen, so a number repeated anywhere in a
 * file is recognised without asking PostgreSQL (an index probe per row cost a fifth of the
 * database's time per row, and the database is what limits the import), and the tenant's
 * suppression list.
 *
 * A number of at most 15 digits (E.164's limit, below 2^53) is held exactly as one double in an
 * open-addressing table of Float64Array slots, 0 marking a free slot (no number is 0): 8–16 bytes
 * per number, where a `Set<string>` takes over 60 MB of V8 heap at 1M numbers. libphonenumber-js
 * also accepts a few longer national numbers (up to 19 digits with the calling code, e.g. some
 * Japanese and Indonesian service numbers): those go to a plain Set.
 */
export class PhoneNumberSet {
  private slots: Float64Array;
  private mask: number;
  private count = 0;
  private readonly long = new Set<string>();

  constructor(initialCapacity = 1 << 14) {
    this.slots = new Float64Array(initialCapacity);
    this.mask = initialCapacity - 1;
  }

  get size(): number {
    return this.count + this.long.size;
  }

  has(e164: string): boolean {
    const key = toKey(e164);
    return key === undefined ? this.long.has(e164) : this.slots[this.find(key)] !== 0;
  }

  /** Adds an E.164 number; false when it was already in the set. */
  add(e164: string): boolean {
    const key = toKey(e164);
    if (key === undefined) {
      if (this.long.has(e164)) return false;
      this.long.add(e164);
      return true;
    }
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

/** `+` and up to 20 digits (libphonenumber-js: a calling code of up to 3 digits, a national number of up to 17). */
const NUMBER = /^\+[1-9]\d{0,19}$/;

/** The number as an exact double, or undefined for more than 15 digits. */
function toKey(e164: string): number | undefined {
  if (!NUMBER.test(e164)) throw new Error(`Not a phone number in E.164 form: ${e164.slice(0, 32)}`);
  return e164.length <= 16 ? Number(e164.slice(1)) : undefined;
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
    // Beyond 15 digits the double is rounded: still deterministic, so at worst a "maybe".
    if (!NUMBER.test(e164)) throw new Error(`Not a phone number in E.164 form: ${e164.slice(0, 32)}`);
    const key = Number(e164.slice(1));
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
