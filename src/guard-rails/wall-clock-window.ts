/**
 * A send window on the local wall clock, as integer arithmetic: no zones and no calendar library.
 *
 * A wall-clock instant is "milliseconds since 1970-01-01T00:00 on the local clock", i.e. an epoch
 * instant plus the zone's offset at that instant (zone-offsets.ts). Local day numbers count from
 * 1970-01-01, a Thursday, which gives the ISO weekday. A window instance starts at `start` on an
 * allowed day and ends at the next `end` (the following day when `end` < `start`); as instances are
 * shorter than a day, two of them never overlap or touch.
 */
export const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

export interface WallClockWindow {
  /** Milliseconds after local midnight. */
  readonly startMs: number;
  readonly endMs: number;
  /** end < start: an instance ends on the day after it started. */
  readonly spansMidnight: boolean;
  /** Bit d set ⇔ ISO weekday d (1 = Monday … 7 = Sunday) starts an instance. */
  readonly daysMask: number;
}

/** From already validated parts (`HH:MM`, ISO weekdays; no days = every day). */
export function wallClockWindow(start: string, end: string, days: readonly number[] | undefined): WallClockWindow {
  const startMs = minutesOf(start) * MINUTE_MS;
  const endMs = minutesOf(end) * MINUTE_MS;
  let daysMask = 0;
  for (const day of days ?? [1, 2, 3, 4, 5, 6, 7]) daysMask |= 1 << day;
  return { startMs, endMs, spansMidnight: endMs < startMs, daysMask };
}

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** ISO weekday of a local day number. */
export function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

function starts(window: WallClockWindow, day: number): boolean {
  return (window.daysMask & (1 << isoWeekday(day))) !== 0;
}

export function isOpenAtWall(window: WallClockWindow, wall: number): boolean {
  const day = Math.floor(wall / DAY_MS);
  const time = wall - day * DAY_MS;
  if (!window.spansMidnight) return time >= window.startMs && time < window.endMs && starts(window, day);
  if (time >= window.startMs) return starts(window, day);
  return time < window.endMs && starts(window, day - 1);
}

/** The first wall-clock instant >= `wall` at which an instance starts. */
export function nextStartAtWall(window: WallClockWindow, wall: number): number {
  const today = Math.floor(wall / DAY_MS);
  // Today's start may have passed; the same weekday a week later has not.
  for (let day = today; day <= today + 7; day++) {
    const start = day * DAY_MS + window.startMs;
    if (start >= wall && starts(window, day)) return start;
  }
  throw new Error('A send window without weekdays never opens');
}

/** The wall-clock end of the instance containing `wall`, which must be open. */
export function instanceEndAtWall(window: WallClockWindow, wall: number): number {
  const day = Math.floor(wall / DAY_MS);
  const time = wall - day * DAY_MS;
  return window.spansMidnight && time >= window.startMs ? (day + 1) * DAY_MS + window.endMs : day * DAY_MS + window.endMs;
}
