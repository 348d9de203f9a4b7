/**
 * IANA time-zone names: which strings we accept and the one spelling we keep.
 *
 * A zone is valid when the Temporal polyfill (backed by the runtime's ICU time-zone database, like
 * `Intl`) knows it by name. Fixed UTC offsets (`+01:00`), which Temporal also accepts, are refused:
 * the contract asks for IANA zones, and an offset silently ignores daylight saving time, the very
 * thing a send window in the recipient's zone is about. Names are matched case-insensitively and kept
 * in their canonical case (`europe/zurich` → `Europe/Zurich`); links stay as given (`Asia/Calcutta`
 * is not rewritten to `Asia/Kolkata` or back), so what a user wrote is what they read back.
 */
import { Temporal } from 'temporal-polyfill';

/** The longest IANA name today is 32 characters (`America/Argentina/ComodRivadavia`). */
const MAX_NAME_LENGTH = 64;
/** Zone names come from imported recipient variables too: bound the cache of arbitrary strings. */
const MAX_CACHED = 10_000;

const canonical = new Map<string, string | null>();

/** The zone's IANA name in canonical case, or null when `zone` is not a known IANA zone name. */
export function normalizeTimeZone(zone: unknown): string | null {
  if (typeof zone !== 'string') return null;
  let name = canonical.get(zone);
  if (name === undefined) {
    name = lookUp(zone);
    if (canonical.size >= MAX_CACHED) canonical.clear();
    canonical.set(zone, name);
  }
  return name;
}

/** True for IANA zone names (any case), e.g. for validating `DEFAULT_TIME_ZONE` at boot. */
export function isValidTimeZone(zone: unknown): zone is string {
  return normalizeTimeZone(zone) !== null;
}

function lookUp(zone: string): string | null {
  // Every IANA name starts with a letter; offsets start with a sign and are refused (see above).
  if (zone.length === 0 || zone.length > MAX_NAME_LENGTH || !/^[A-Za-z]/.test(zone)) return null;
  try {
    return new Temporal.ZonedDateTime(0n, zone).timeZoneId;
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}
