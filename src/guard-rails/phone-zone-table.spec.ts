import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { deserialize } from 'bson';
import { buildPhoneZoneTable, phoneZoneDataFile, phoneZoneTable, preloadPhoneZoneTable } from './phone-zone-table.js';
import { normalizeTimeZone } from './time-zone.js';

describe('building the prefix → zone table', () => {
  it('finds the zone of the longest known prefix', () => {
    const table = buildPhoneZoneTable({ '1': 'America/New_York&America/Chicago', '1212': 'America/New_York', '1312': 'America/Chicago', '41': 'Europe/Zurich' });
    expect(table.size).toBe(4);
    expect(table.lookup('12125550123')).toBe('America/New_York');
    expect(table.lookup('13125550123')).toBe('America/Chicago');
    expect(table.lookup('1312')).toBe('America/Chicago');
    expect(table.lookup('131')).toBe('America/Chicago'); // only '1' matches: equal shares, alphabetical tie-break
    expect(table.lookup('+41446681800', 1)).toBe('Europe/Zurich');
    expect(table.lookup('4')).toBeNull();
    expect(table.lookup('99')).toBeNull();
    expect(table.lookup('')).toBeNull();
  });

  it("resolves an ambiguous prefix to the zone with the largest share of its country's numbers", () => {
    // Country 99: 991 → Paris (share 0.1); 992 → Berlin, but 9921–9926 (0.06 of it) → Madrid, leaving Berlin 0.04.
    // Counting whole prefixes instead of their own share would tie Paris and Berlin (and pick Berlin).
    const entries: Record<string, string> = { '99': 'Europe/Berlin&Europe/Paris', '991': 'Europe/Paris', '992': 'Europe/Berlin' };
    for (const d of [1, 2, 3, 4, 5, 6]) entries[`992${d}`] = 'Europe/Madrid';
    expect(buildPhoneZoneTable(entries).lookup('99')).toBe('Europe/Paris');
  });

  it('breaks ties alphabetically, and weighs each country on its own', () => {
    const table = buildPhoneZoneTable({ '88': 'Europe/Vatican&Europe/Rome', '77': 'Europe/Rome&Europe/Vatican', '771': 'Europe/Vatican' });
    expect(table.lookup('88')).toBe('Europe/Rome');
    expect(table.lookup('77')).toBe('Europe/Vatican');
  });

  it('drops zones the runtime does not know, and prefixes left without any', () => {
    const table = buildPhoneZoneTable({ '77': 'Mars/Olympus&Europe/Oslo', '66': 'Mars/Olympus', 'x1': 'Europe/Oslo' });
    expect(table.size).toBe(1);
    expect(table.lookup('77')).toBe('Europe/Oslo');
    expect(table.lookup('66')).toBeNull();
  });
});

describe("libphonenumber's data as shipped", () => {
  const raw = deserialize(readFileSync(phoneZoneDataFile())) as Record<string, string>;

  it('names only zones this runtime knows, so no prefix is lost', () => {
    const zones = new Set(Object.values(raw).flatMap((joined) => joined.split('&')));
    expect([...zones].filter((zone) => normalizeTimeZone(zone) === null)).toEqual([]);
    expect(phoneZoneTable().size).toBe(Object.keys(raw).length);
    expect(Object.keys(raw).length).toBeGreaterThan(3000);
  });

  it.each([
    ['1', 'America/New_York'],
    ['7', 'Europe/Moscow'],
    ['55', 'America/Sao_Paulo'],
    ['61', 'Australia/Sydney'],
    ['6189', 'Australia/Perth'],
    ['44', 'Europe/London'],
    ['4479', 'Europe/London'],
    ['52', 'America/Mexico_City'],
    ['1907', 'America/Adak'], // no single-zone Alaska prefix in the data: alphabetical tie-break (see the module comment)
  ])('picks one zone for the ambiguous prefix %s: %s', (prefix, zone) => {
    expect(raw[prefix]).toContain('&');
    expect(phoneZoneTable().lookup(prefix)).toBe(zone);
  });

  it('preloads the same table asynchronously', async () => {
    await expect(preloadPhoneZoneTable()).resolves.toBe(phoneZoneTable());
  });
});
