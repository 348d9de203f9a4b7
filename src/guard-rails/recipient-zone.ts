/**
 * The time zone of a recipient, for send windows that follow the recipient's own clock.
 *
 * In order: a `timeZone` variable given at import when it names an IANA zone (an invalid one is
 * ignored, not an error: the number may still tell); else the zone of the number's longest known
 * prefix in libphonenumber's data (by area code where a country spans several zones, else by
 * country; one zone for ambiguous prefixes, see phone-zone-table.ts); else the caller's fallback,
 * the setting DEFAULT_TIME_ZONE. The lookup is synchronous: the prefix table is decoded once, on first
 * use or by `preloadRecipientZones()` at boot, and a lookup walks a digit trie, one step per digit.
 */
import { phoneZoneTable, preloadPhoneZoneTable } from './phone-zone-table.js';
import { normalizeTimeZone } from './time-zone.js';

/** The recipient variable that, when it holds an IANA name, sets the recipient's zone. */
export const TIME_ZONE_VARIABLE = 'timeZone';

/** `+` and 2–15 digits, not starting with 0: the shape of a number our import normalised. */
const E164 = /^\+[1-9]\d{1,14}$/;

/** Decodes the prefix table ahead of the first lookup (which otherwise pays ≈50 ms once). */
export async function preloadRecipientZones(): Promise<void> {
  await preloadPhoneZoneTable();
}

/**
 * The zone in which send windows apply to this recipient. `fallbackZone` must itself be valid
 * (DEFAULT_TIME_ZONE is checked at boot with isValidTimeZone) and is returned as given.
 */
export function zoneOfRecipient(phoneE164: string, variables: Record<string, string> | null, fallbackZone: string): string {
  if (variables != null && Object.hasOwn(variables, TIME_ZONE_VARIABLE)) {
    const given = variables[TIME_ZONE_VARIABLE];
    const zone = normalizeTimeZone(typeof given === 'string' ? given.trim() : given);
    if (zone !== null) return zone;
  }
  return zoneOfNumber(phoneE164) ?? fallbackZone;
}

/** The zone libphonenumber's data gives an E.164 number, or null (not E.164, or no prefix known). */
export function zoneOfNumber(phoneE164: string): string | null {
  if (typeof phoneE164 !== 'string' || !E164.test(phoneE164)) return null;
  return phoneZoneTable().lookup(phoneE164, 1);
}
