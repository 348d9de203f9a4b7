import { describe, expect, it } from '@jest/globals';
import { isValidTimeZone, normalizeTimeZone } from './time-zone.js';

describe('IANA time-zone names', () => {
  it.each([
    ['Europe/Zurich', 'Europe/Zurich'],
    ['europe/zurich', 'Europe/Zurich'],
    ['AMERICA/NEW_YORK', 'America/New_York'],
    ['UTC', 'UTC'],
    ['Etc/UTC', 'Etc/UTC'],
    ['America/Argentina/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
    // Links are kept as written, not rewritten to their target.
    ['Asia/Calcutta', 'Asia/Calcutta'],
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['US/Eastern', 'US/Eastern'],
  ])('accepts %j as %j', (zone, canonical) => {
    expect(normalizeTimeZone(zone)).toBe(canonical);
    expect(isValidTimeZone(zone)).toBe(true);
  });

  it.each(['', ' UTC', 'Mars/Olympus', '+01:00', '-05:00', 'Z', 'Europe/', 'x'.repeat(100), null, undefined, 1, {}])(
    'refuses %j',
    (zone) => {
      expect(normalizeTimeZone(zone)).toBeNull();
      expect(isValidTimeZone(zone)).toBe(false);
    },
  );

  it('knows every zone the runtime lists', () => {
    const unknown = Intl.supportedValuesOf('timeZone').filter((zone) => normalizeTimeZone(zone) !== zone);
    expect(unknown).toEqual([]);
  });
});
