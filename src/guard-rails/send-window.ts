/**
 * Send windows ("quiet hours"): what a valid window is, and whether it is open at an instant in a zone.
 *
 * Semantics: a window is open at an instant exactly when the local wall clock of its zone then reads
 * a time in [start, end) of an instance that started on one of `days` (an instance that spans
 * midnight belongs to the day it started on: Saturday 01:00 is inside Friday's 22:00–02:00). Around
 * DST changes this gives, with no special case:
 * - a start that does not exist (spring-forward gap) opens at the first instant after the gap, when
 *   the clock jumps into the window; an end in the gap closes at the gap; an instance that lies wholly
 *   inside the gap does not happen that day;
 * - a start that exists twice (fall back) opens at its first occurrence; when the clock is set back
 *   into the window, or out of it, it is open or closed as the clock reads (the repeated hour can be
 *   open twice).
 * Offsets come from the IANA database through zone-offsets.ts; the rest is wall-clock arithmetic.
 */
import { validateSendWindow } from './send-window-validation.js';
import { instanceEndAtWall, isOpenAtWall, nextStartAtWall, wallClockWindow, type WallClockWindow } from './wall-clock-window.js';
import { offsetSegmentAt } from './zone-offsets.js';

// The API of send windows is this file; their validation lives beside it to keep both short.
export { validateSendWindow, type SendWindowValidation } from './send-window-validation.js';

export interface SendWindow {
  /** Local time `HH:MM` (00:00–23:59) at which an instance opens. */
  start: string;
  /** Local time `HH:MM` at which it closes (excluded); before `start`: on the next day. */
  end: string;
  /** ISO weekdays (1 = Monday … 7 = Sunday) on which instances start; absent: every day. */
  days?: number[];
  /** An IANA zone for everybody, or `recipient` (the default): each recipient's own zone. */
  timeZone?: 'recipient' | (string & {});
}

/** Loop bound: a week holds a few transitions at most, far fewer steps than this. */
const MAX_STEPS = 100;

interface CompiledWindow {
  readonly clock: WallClockWindow;
  /** The window's own zone, or null: the recipient's. */
  readonly zone: string | null;
}

/** By object: the caller's one window object per campaign costs a lookup per message. */
const compiledByObject = new WeakMap<SendWindow, CompiledWindow>();
/** By content: a caller that builds a new object per message still skips validation. */
const compiledByJson = new Map<string, CompiledWindow>();
const MAX_CACHED_WINDOWS = 10_000;

function compile(window: SendWindow): CompiledWindow {
  let entry = compiledByObject.get(window);
  if (entry !== undefined) return entry;
  const json = JSON.stringify(window);
  entry = compiledByJson.get(json);
  if (entry === undefined) {
    // Windows come from validated input or our own database; checking again costs once per window.
    const checked = validateSendWindow(window);
    if (!checked.ok) throw new TypeError(`Invalid send window: ${checked.problems.map((p) => `${p.field} ${p.message}`).join('; ')}`);
    const { start, end, days, timeZone } = checked.window;
    entry = { clock: wallClockWindow(start, end, days), zone: timeZone === undefined || timeZone === 'recipient' ? null : timeZone };
    if (compiledByJson.size >= MAX_CACHED_WINDOWS) compiledByJson.clear();
    compiledByJson.set(json, entry);
  }
  compiledByObject.set(window, entry);
  return entry;
}

/** The zone a window is read in: its own `timeZone`, or the recipient's when it says `recipient`. */
export function windowZone(window: SendWindow, recipientZone: string): string {
  return compile(window).zone ?? recipientZone;
}

/**
 * Whether `window` is open at `at`. `recipientZone` (an IANA name, see recipient-zone.ts) is used
 * unless the window names its own zone. Cost after warm-up: a few arithmetic operations.
 */
export function isOpen(window: SendWindow, recipientZone: string, at: Date): boolean {
  const { clock, zone } = compile(window);
  const ms = at.getTime();
  return isOpenAtWall(clock, ms + offsetSegmentAt(zone ?? recipientZone, ms).offsetMs);
}

/** `at` itself when open, else the first instant after `at` at which the window is open. */
export function nextOpening(window: SendWindow, recipientZone: string, at: Date): Date {
  const { clock, zone } = compile(window);
  let t = at.getTime();
  for (let step = 0; step < MAX_STEPS; step++) {
    const segment = offsetSegmentAt(zone ?? recipientZone, t);
    const wall = t + segment.offsetMs;
    if (isOpenAtWall(clock, wall)) return step === 0 ? at : new Date(t);
    // Inside a segment the wall clock runs with real time, so it first enters the window at an instance start.
    const opening = nextStartAtWall(clock, wall) - segment.offsetMs;
    if (opening < segment.end) return new Date(opening);
    t = segment.end; // the clock jumps here: maybe into the window
  }
  throw new Error(`No opening of send window ${JSON.stringify(window)} found after ${at.toISOString()}`);
}

/** When the open stretch containing `at` ends (the first instant after it that is closed); null if closed. */
export function closesAt(window: SendWindow, recipientZone: string, at: Date): Date | null {
  const { clock, zone } = compile(window);
  let t = at.getTime();
  for (let step = 0; step < MAX_STEPS; step++) {
    const segment = offsetSegmentAt(zone ?? recipientZone, t);
    const wall = t + segment.offsetMs;
    if (!isOpenAtWall(clock, wall)) return step === 0 ? null : new Date(t);
    const closing = instanceEndAtWall(clock, wall) - segment.offsetMs;
    if (closing < segment.end) return new Date(closing);
    t = segment.end; // the clock jumps here: maybe out of the window
  }
  throw new Error(`No closing of send window ${JSON.stringify(window)} found after ${at.toISOString()}`);
}
