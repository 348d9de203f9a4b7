import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { offsetSegmentAt } from './zone-offsets.js';

const HOUR = 3_600_000;
const ZONES = ['Europe/Zurich', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Apia', 'Asia/Kathmandu', 'UTC'];

/** The offset as Intl formats it ("GMT+05:45"), independent of our cache. */
function intlOffsetMs(zone: string, ms: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(ms)
    .find((part) => part.type === 'timeZoneName')!.value;
  const match = /^GMT(?:([+-])(\d\d):(\d\d))?$/.exec(name)!;
  if (match[1] === undefined) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * HOUR + Number(match[3]) * 60_000);
}

describe('offset segments', () => {
  it('Zurich 2026: CET until 2026-03-29T01:00Z, CEST until 2026-10-25T01:00Z', () => {
    const winter = offsetSegmentAt('Europe/Zurich', Date.parse('2026-02-01T00:00:00Z'));
    expect(winter).toEqual({ start: Date.parse('2025-10-26T01:00:00Z'), end: Date.parse('2026-03-29T01:00:00Z'), offsetMs: HOUR });
    const summer = offsetSegmentAt('Europe/Zurich', Date.parse('2026-03-29T01:00:00Z'));
    expect(summer).toEqual({ start: Date.parse('2026-03-29T01:00:00Z'), end: Date.parse('2026-10-25T01:00:00Z'), offsetMs: 2 * HOUR });
    expect(offsetSegmentAt('Europe/Zurich', Date.parse('2026-03-29T00:59:59.999Z'))).toBe(winter);
  });

  it('a zone without transitions is one segment', () => {
    expect(offsetSegmentAt('UTC', 0)).toEqual({ start: -Infinity, end: Infinity, offsetMs: 0 });
  });

  it('agrees with Intl at any instant, and the segment contains the instant', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2045, 0, 1) }), (zone, ms) => {
        const segment = offsetSegmentAt(zone, ms);
        expect(segment.start <= ms && ms < segment.end).toBe(true);
        expect(segment.offsetMs).toBe(intlOffsetMs(zone, ms));
        if (Number.isFinite(segment.start)) expect(intlOffsetMs(zone, segment.start)).toBe(segment.offsetMs);
        if (Number.isFinite(segment.end)) expect(intlOffsetMs(zone, segment.end - 1)).toBe(segment.offsetMs);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses unknown zones and invalid instants', () => {
    expect(() => offsetSegmentAt('Mars/Olympus', 0)).toThrow(RangeError);
    expect(() => offsetSegmentAt('UTC', Number.NaN)).toThrow(RangeError);
  });
});
