import { describe, expect, it } from '@jest/globals';
import { closesAt, isOpen, nextOpening, windowZone, type SendWindow } from './send-window.js';

const at = (iso: string) => new Date(iso);
const next = (w: SendWindow, zone: string, iso: string) => nextOpening(w, zone, at(iso)).toISOString();
const closes = (w: SendWindow, zone: string, iso: string) => closesAt(w, zone, at(iso))?.toISOString() ?? null;

describe('send windows in Europe/Zurich on 2026-03-29 (spring forward: 02:00 CET → 03:00 CEST at 01:00Z)', () => {
  const zurich = 'Europe/Zurich';

  it('a day window opens an hour earlier in UTC after the change', () => {
    const day: SendWindow = { start: '08:00', end: '20:00' };
    expect(next(day, zurich, '2026-03-28T00:00:00Z')).toBe('2026-03-28T07:00:00.000Z');
    expect(closes(day, zurich, '2026-03-28T07:00:00Z')).toBe('2026-03-28T19:00:00.000Z');
    expect(next(day, zurich, '2026-03-28T19:00:00Z')).toBe('2026-03-29T06:00:00.000Z');
    expect(closes(day, zurich, '2026-03-29T06:00:00Z')).toBe('2026-03-29T18:00:00.000Z');
  });

  it('a start inside the gap (02:30) opens at the first instant after the gap', () => {
    const w: SendWindow = { start: '02:30', end: '05:00' };
    expect(next(w, zurich, '2026-03-28T00:00:00Z')).toBe('2026-03-28T01:30:00.000Z'); // the day before: 02:30 CET
    expect(next(w, zurich, '2026-03-28T23:00:00Z')).toBe('2026-03-29T01:00:00.000Z'); // 03:00 CEST
    expect(isOpen(w, zurich, at('2026-03-29T00:59:59.999Z'))).toBe(false); // 01:59:59 CET
    expect(isOpen(w, zurich, at('2026-03-29T01:00:00Z'))).toBe(true);
    expect(closes(w, zurich, '2026-03-29T01:00:00Z')).toBe('2026-03-29T03:00:00.000Z'); // 05:00 CEST
  });

  it('an end inside the gap closes at the gap', () => {
    const night: SendWindow = { start: '22:00', end: '02:30' };
    expect(next(night, zurich, '2026-03-28T12:00:00Z')).toBe('2026-03-28T21:00:00.000Z');
    expect(closes(night, zurich, '2026-03-28T23:30:00Z')).toBe('2026-03-29T01:00:00.000Z');
    expect(isOpen(night, zurich, at('2026-03-29T00:59:00Z'))).toBe(true);
    expect(isOpen(night, zurich, at('2026-03-29T01:00:00Z'))).toBe(false);
  });

  it('a window wholly inside the gap does not happen that day', () => {
    const sundayGap: SendWindow = { start: '02:00', end: '02:45', days: [7] };
    expect(next(sundayGap, zurich, '2026-03-28T12:00:00Z')).toBe('2026-04-05T00:00:00.000Z'); // next Sunday 02:00 CEST
  });
});

describe('send windows in Europe/Zurich on 2026-10-25 (fall back: 03:00 CEST → 02:00 CET at 01:00Z)', () => {
  const zurich = 'Europe/Zurich';

  it('a day window opens an hour later in UTC after the change', () => {
    const day: SendWindow = { start: '08:00', end: '20:00' };
    expect(next(day, zurich, '2026-10-24T00:00:00Z')).toBe('2026-10-24T06:00:00.000Z');
    expect(next(day, zurich, '2026-10-24T18:00:00Z')).toBe('2026-10-25T07:00:00.000Z');
    expect(closes(day, zurich, '2026-10-25T07:00:00Z')).toBe('2026-10-25T19:00:00.000Z');
  });

  it('a start that exists twice (02:30) opens at its first occurrence', () => {
    const w: SendWindow = { start: '02:30', end: '05:00' };
    expect(next(w, zurich, '2026-10-24T22:00:00Z')).toBe('2026-10-25T00:30:00.000Z'); // 02:30 CEST
    // At 03:00 CEST the clock reads 02:00 again: before the window, so it is closed until 02:30 CET.
    expect(closes(w, zurich, '2026-10-25T00:30:00Z')).toBe('2026-10-25T01:00:00.000Z');
    expect(next(w, zurich, '2026-10-25T01:00:00Z')).toBe('2026-10-25T01:30:00.000Z');
    expect(closes(w, zurich, '2026-10-25T01:30:00Z')).toBe('2026-10-25T04:00:00.000Z'); // 05:00 CET
  });

  it('a window across the repeated hour stays open through it (3 hours of wall clock take 3 real hours)', () => {
    const w: SendWindow = { start: '02:00', end: '04:00' };
    expect(next(w, zurich, '2026-10-24T22:00:00Z')).toBe('2026-10-25T00:00:00.000Z'); // 02:00 CEST
    expect(closes(w, zurich, '2026-10-25T00:00:00Z')).toBe('2026-10-25T03:00:00.000Z'); // 04:00 CET
  });

  it('a window ending inside the repeated hour is open again while the clock repeats it', () => {
    const w: SendWindow = { start: '01:00', end: '02:45' };
    expect(next(w, zurich, '2026-10-24T22:00:00Z')).toBe('2026-10-24T23:00:00.000Z'); // 01:00 CEST
    expect(closes(w, zurich, '2026-10-24T23:00:00Z')).toBe('2026-10-25T00:45:00.000Z'); // 02:45 CEST
    expect(next(w, zurich, '2026-10-25T00:45:00Z')).toBe('2026-10-25T01:00:00.000Z'); // 02:00 CET
    expect(closes(w, zurich, '2026-10-25T01:00:00Z')).toBe('2026-10-25T01:45:00.000Z'); // 02:45 CET
  });
});

describe('send windows in America/New_York on 2026-03-08 (spring forward: 02:00 EST → 03:00 EDT at 07:00Z)', () => {
  const newYork = 'America/New_York';

  it('office hours open at 13:00Z instead of 14:00Z', () => {
    const office: SendWindow = { start: '09:00', end: '17:00' };
    expect(next(office, newYork, '2026-03-07T00:00:00Z')).toBe('2026-03-07T14:00:00.000Z');
    expect(next(office, newYork, '2026-03-07T22:00:00Z')).toBe('2026-03-08T13:00:00.000Z');
    expect(closes(office, newYork, '2026-03-08T13:00:00Z')).toBe('2026-03-08T21:00:00.000Z');
  });

  it('a start in the gap opens at 03:00 EDT; a window wholly in the gap waits for the next day', () => {
    expect(next({ start: '02:30', end: '04:00' }, newYork, '2026-03-08T05:00:00Z')).toBe('2026-03-08T07:00:00.000Z');
    expect(closes({ start: '02:30', end: '04:00' }, newYork, '2026-03-08T07:00:00Z')).toBe('2026-03-08T08:00:00.000Z');
    expect(next({ start: '02:00', end: '03:00' }, newYork, '2026-03-08T05:00:00Z')).toBe('2026-03-09T06:00:00.000Z');
  });

  it('a Saturday night window ends at the gap, and the next one is a week later in EDT', () => {
    const saturdayNight: SendWindow = { start: '22:00', end: '02:30', days: [6] };
    expect(next(saturdayNight, newYork, '2026-03-07T12:00:00Z')).toBe('2026-03-08T03:00:00.000Z');
    expect(closes(saturdayNight, newYork, '2026-03-08T06:00:00Z')).toBe('2026-03-08T07:00:00.000Z');
    expect(next(saturdayNight, newYork, '2026-03-08T07:00:00Z')).toBe('2026-03-15T02:00:00.000Z');
  });
});

describe('windows over midnight and weekdays', () => {
  // 2026-03-27 is a Friday.
  const fridayNight: SendWindow = { start: '22:00', end: '02:00', days: [5] };

  it.each([
    ['2026-03-26T23:00:00Z', false, 'Thursday night: not an allowed day'],
    ['2026-03-27T01:00:00Z', false, "Friday 01:00 belongs to Thursday's instance"],
    ['2026-03-27T21:59:59.999Z', false, 'just before the start'],
    ['2026-03-27T22:00:00Z', true, 'the start'],
    ['2026-03-28T01:00:00Z', true, "Saturday 01:00 is inside Friday's instance"],
    ['2026-03-28T01:59:59.999Z', true, 'just before the end'],
    ['2026-03-28T02:00:00Z', false, 'the end is excluded'],
    ['2026-03-28T22:30:00Z', false, 'Saturday night'],
  ])('Friday 22:00–02:00 at %s → %s (%s)', (iso, open) => {
    expect(isOpen(fridayNight, 'UTC', at(iso))).toBe(open);
  });

  it('the Friday night window closes on Saturday and opens again the next Friday', () => {
    expect(closes(fridayNight, 'UTC', '2026-03-27T23:00:00Z')).toBe('2026-03-28T02:00:00.000Z');
    expect(closes(fridayNight, 'UTC', '2026-03-28T02:00:00Z')).toBeNull();
    expect(next(fridayNight, 'UTC', '2026-03-28T02:00:00Z')).toBe('2026-04-03T22:00:00.000Z');
  });

  it('a Sunday night window crosses the week boundary', () => {
    const sundayNight: SendWindow = { start: '22:00', end: '02:00', days: [7] };
    expect(isOpen(sundayNight, 'UTC', at('2026-03-30T01:00:00Z'))).toBe(true); // Monday 01:00
    expect(closes(sundayNight, 'UTC', '2026-03-29T23:00:00Z')).toBe('2026-03-30T02:00:00.000Z');
    expect(next(sundayNight, 'UTC', '2026-03-30T03:00:00Z')).toBe('2026-04-05T22:00:00.000Z');
  });

  it('office days skip the weekend', () => {
    const office: SendWindow = { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] };
    expect(isOpen(office, 'UTC', at('2026-03-28T12:00:00Z'))).toBe(false); // Saturday
    expect(next(office, 'UTC', '2026-03-27T18:00:00Z')).toBe('2026-03-30T09:00:00.000Z');
  });

  it('nextOpening and closesAt across a DST change and a weekend', () => {
    const mondays: SendWindow = { start: '08:00', end: '20:00', days: [1] };
    expect(next(mondays, 'Europe/Zurich', '2026-03-27T21:00:00Z')).toBe('2026-03-30T06:00:00.000Z');
    expect(next(mondays, 'Europe/Zurich', '2026-10-23T21:00:00Z')).toBe('2026-10-26T07:00:00.000Z');
    const overnight: SendWindow = { start: '20:00', end: '08:00' };
    // Saturday 20:00 CET → Sunday 08:00 CEST: 11 real hours.
    expect(closes(overnight, 'Europe/Zurich', '2026-03-28T19:00:00Z')).toBe('2026-03-29T06:00:00.000Z');
  });
});

describe('zones and arguments', () => {
  it('reads the window in its own zone when it names one, else in the recipient zone', () => {
    const newYorkOffice: SendWindow = { start: '09:00', end: '17:00', timeZone: 'America/New_York' };
    expect(windowZone(newYorkOffice, 'Europe/Zurich')).toBe('America/New_York');
    expect(windowZone({ start: '09:00', end: '17:00', timeZone: 'recipient' }, 'Europe/Zurich')).toBe('Europe/Zurich');
    expect(windowZone({ start: '09:00', end: '17:00' }, 'Asia/Tokyo')).toBe('Asia/Tokyo');
    // 20:00Z on 2026-06-01 is 16:00 in New York (open) and 22:00 in Zurich (closed).
    expect(isOpen(newYorkOffice, 'Europe/Zurich', at('2026-06-01T20:00:00Z'))).toBe(true);
    expect(isOpen({ start: '09:00', end: '17:00' }, 'Europe/Zurich', at('2026-06-01T20:00:00Z'))).toBe(false);
  });

  it('returns `at` itself when the window is already open', () => {
    const now = at('2026-06-01T12:00:00Z');
    expect(nextOpening({ start: '09:00', end: '17:00' }, 'UTC', now)).toBe(now);
  });

  it('refuses a malformed window and an unknown zone', () => {
    expect(() => isOpen({ start: '9:00', end: '17:00' }, 'UTC', at('2026-06-01T12:00:00Z'))).toThrow(TypeError);
    expect(() => isOpen({ start: '09:00', end: '17:00', days: [] }, 'UTC', at('2026-06-01T12:00:00Z'))).toThrow(/days/);
    const extra = { start: '09:00', end: '17:00', extra: 1 } as SendWindow; // refused although { start, end } is cached
    expect(() => isOpen(extra, 'UTC', at('2026-06-01T12:00:00Z'))).toThrow(/extra/);
    expect(() => isOpen(null as unknown as SendWindow, 'UTC', at('2026-06-01T12:00:00Z'))).toThrow(TypeError);
    expect(() => isOpen({ start: '09:00', end: '17:00' }, 'Mars/Olympus', at('2026-06-01T12:00:00Z'))).toThrow(RangeError);
    expect(() => isOpen({ start: '09:00', end: '17:00' }, 'UTC', new Date(Number.NaN))).toThrow(RangeError);
  });

  it('works far from today', () => {
    expect(next({ start: '09:00', end: '17:00' }, 'Europe/Zurich', '1950-07-01T00:00:00Z')).toBe('1950-07-01T08:00:00.000Z');
    expect(next({ start: '09:00', end: '17:00' }, 'Europe/Zurich', '2300-07-01T00:00:00Z')).toBe('2300-07-01T07:00:00.000Z');
  });
});

describe('America/St_Johns on 1995-04-02 (spring forward at 00:01 NST → 01:01 NDT)', () => {
  it('a closed slot wholly inside the gap is skipped: the window stays open into the next night', () => {
    // Found by the property test: open 00:06 → 00:01 next day, so closed only 00:01–00:06, which that night never shows.
    const almostAllDay: SendWindow = { start: '00:06', end: '00:01' };
    const zone = 'America/St_Johns';
    expect(isOpen(almostAllDay, zone, at('1995-04-02T03:31:00Z'))).toBe(true); // 00:00 NST, a minute before the gap
    expect(isOpen(almostAllDay, zone, at('1995-04-02T03:32:00Z'))).toBe(true); // 01:02 NDT, just after it
    expect(closes(almostAllDay, zone, '1995-04-02T01:30:59.999Z')).toBe('1995-04-03T02:31:00.000Z'); // 00:01 NDT the night after
  });
});
