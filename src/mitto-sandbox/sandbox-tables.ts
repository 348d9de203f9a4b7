// Small lookup structures used by the sandbox's recording (sandbox-state.ts).

/** string ↔ small integer table, for the few distinct API keys and traffic accounts. */
export class Interner {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();

  intern(value: string): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.push(value) - 1;
      this.index.set(value, i);
    }
    return i;
  }
}

/**
 * key → record indices, built on the first lookup and extended with the records added since at each later
 * one. Lookups serve tests (control API), so the hot path of accepting messages pays nothing for them, and a
 * benchmark that never looks anything up never builds them.
 */
export class LazyIndex<K> {
  private readonly map = new Map<K, number | number[]>(); // a single index is stored unboxed
  private indexed = 0;

  /** @param keyOf key of record i, or undefined when the record is not indexed (e.g. no reference). */
  constructor(private readonly keyOf: (i: number) => K | undefined) {}

  lookup(key: K, recordCount: number): number[] {
    for (; this.indexed < recordCount; this.indexed++) {
      const k = this.keyOf(this.indexed);
      if (k === undefined) continue;
      const prev = this.map.get(k);
      if (prev === undefined) this.map.set(k, this.indexed);
      else if (typeof prev === 'number') this.map.set(k, [prev, this.indexed]);
      else prev.push(this.indexed);
    }
    const hit = this.map.get(key);
    return hit === undefined ? [] : typeof hit === 'number' ? [hit] : [...hit];
  }
}
