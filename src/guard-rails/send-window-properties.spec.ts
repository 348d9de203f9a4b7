import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { closesAt, isOpen, nextOpening, type SendWindow } from './send-window.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Zones with 1 h and 30 min DST, DST changes at midnight, a skipped day (Apia 2011-12-30), odd offsets. */
const ZONES = ['Europe/Zurich', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Apia', 'Asia/Kathmandu', 'America/St_Johns', 'UTC'];

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
const windows: fc.Arbitrary<SendWindow> = fc
  .record({
    start: fc.integer({ min: 0, max: 1439 }),
    length: fc.integer({ min: 1, max: 1439 }),
    days: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }), { nil: undefined }),
  })
  .map(({ start, length, days }) => ({ start: hhmm(start), end: hhmm((start + length) % 1440), ...(days ? { days } : {}) }));

/** Any instant 1990–2045, or one within two days of one of the zone's transitions (where bugs live). */
const zonedInstants = fc.constantFrom(...ZONES).chain((zone) =>
  fc.tuple(
    fc.constant(zone),
    fc.oneof(
      fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2045, 0, 1) }),
      fc
        .record({ year: fc.integer({ min: 1995, max: 2040 }), nth: fc.integer({ min: 0, max: 3 }), delta: fc.integer({ min: -2 * DAY, max: 2 * DAY }) })
        .map(({ year, nth, delta }) => transitionNear(zone, year, nth) + delta),
    ),
  ),
);

function transitionNear(zone: string, year: number, nth: number): number {
  let at: Temporal.ZonedDateTime | null = Temporal.ZonedDateTime.from({ year, month: 1, day: 1, timeZone: zone });
  for (let i = 0; i <= nth && at !== null; i++) at = at.getTimeZoneTransition('next');
  return at === null ? Date.UTC(year, 6, 1) : at.epochMilliseconds;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The local wall clock as Intl shows it: the oracle, computed without our code or Temporal. */
function wallClock(zone: string, ms: number): { weekday: number; minutes: number } {
  let format = formatters.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]));
  return { weekday: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday) + 1, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

function insideOnWallClock(window: SendWindow, zone: string, ms: number): boolean {
  const { weekday, minutes } = wallClock(zone, ms);
  const [start, end] = [window.start, window.end].map((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3)));
  const days = window.days ?? [1, 2, 3, 4, 5, 6, 7];
  const yesterday = weekday === 1 ? 7 : weekday - 1;
  if (start < end) return minutes >= start && minutes < end && days.includes(weekday);
  return (minutes >= start && days.includes(weekday)) || (minutes < end && days.includes(yesterday));
}

/** Instants in [from, to): evenly spaced (at most `step` apart) plus the last millisecond. */
function samples(from: number, to: number, step: number): number[] {
  const points: number[] = [];
  for (let t = from; t < to; t += step) points.push(t);
  if (to - 1 >= from) points.push(to - 1);
  return points;
}

describe('send window properties', () => {
  it('isOpen at an instant ⇔ the local wall clock (per Intl) is inside the window', () => {
    fc.assert(
      fc.property(windows, zonedInstants, (window, [zone, ms]) => {
        expect(isOpen(window, zone, new Date(ms))).toBe(insideOnWallClock(window, zone, ms));
      }),
      { numRuns: 1_000 },
    );
  });

  it('nextOpening(at) is open, at most two weeks away, and nothing before it is open', () => {
    fc.assert(
      fc.property(windows, zonedInstants, (window, [zone, ms]) => {
        const opening = nextOpening(window, zone, new Date(ms)).getTime();
        expect(opening).toBeGreaterThanOrEqual(ms);
        // A week, or two when the one allowed day's instance falls into a gap or a skipped day.
        expect(opening - ms).toBeLessThanOrEqual(15 * DAY);
        expect(isOpen(window, zone, new Date(opening))).toBe(true);
        // Sampled every 7 minutes (windows are whole minutes; 7 is coprime with them) and at opening − 1 ms.
        expect(samples(ms, opening, 7 * MINUTE).find((t) => isOpen(window, zone, new Date(t)))).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('closesAt(at) is null when closed, else the first closed instant after an open stretch', () => {
    fc.assert(
      fc.property(windows, zonedInstants, (window, [zone, ms]) => {
        const closing = closesAt(window, zone, new Date(ms));
        if (!isOpen(window, zone, new Date(ms))) return expect(closing).toBeNull();
        expect(closing).not.toBeNull();
        const end = closing!.getTime();
        expect(end).toBeGreaterThan(ms);
        // A day plus a DST hour, or two when a spring-forward skips the whole closed slot (St John's moved
        // its clocks at 00:01 until 2011: a window closed 00:01-00:06 then never closes that night).
        expect(end - ms).toBeLessThanOrEqual(2 * DAY + HOUR);
        expect(isOpen(window, zone, closing!)).toBe(false);
        expect(samples(ms, end, 7 * MINUTE).find((t) => !isOpen(window, zone, new Date(t)))).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('an opening is followed by a closing after it', () => {
    fc.assert(
      fc.property(windows, zonedInstants, (window, [zone, ms]) => {
        const opening = nextOpening(window, zone, new Date(ms));
        expect(closesAt(window, zone, opening)!.getTime()).toBeGreaterThan(opening.getTime());
      }),
      { numRuns: 500 },
    );
  });
});
