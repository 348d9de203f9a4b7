import type { AutoPauseSettings, FailureWindow } from './guard-rails.types.js';

export const EMPTY_WINDOW: FailureWindow = { aTotal: 0, aKnown: 0, aBad: 0, bTotal: 0, bKnown: 0, bBad: 0 };

/** A campaign's outcome counters (see FailureWindow). */
export interface OutcomeCounts {
  total: number;
  known: number;
  bad: number;
}

export interface FailureVerdict {
  /** Share of failed + undelivered among the outcome events since checkpoint `a` (null: too few to judge). */
  rate: number | null;
  pause: boolean;
  /** The checkpoints to store when they move on (null: unchanged). */
  next: FailureWindow | null;
}

/**
 * Outcome events between two points of the counters: the larger of the messages handed over and the final
 * outcomes learnt. While a campaign sends faster than reports come back the first is larger, once sending
 * is over and reports arrive the second: either way the bad outcomes of the span (a subset of the final
 * ones) are judged against everything that happened in it. (Judged against the messages handed over only,
 * the reports of a whole finished send would be weighed against the last few hundred messages sent.)
 */
function eventsBetween(counts: OutcomeCounts, total: number, known: number | undefined): number {
  return Math.max(counts.total - total, counts.known - (known ?? 0));
}

/**
 * Auto-pause's judgement, from the campaign's outcome counters. The rate covers the outcome events since
 * checkpoint `a`; once `minMessages` more events have come since checkpoint `b`, `a` moves to `b` and `b`
 * to now. So the rate always covers at least the latest `minMessages` events and at most about twice as
 * many: recent, and never judged on fewer than `minMessages`.
 */
export function judgeFailureRate(window: FailureWindow, counts: OutcomeCounts, settings: AutoPauseSettings): FailureVerdict {
  const events = eventsBetween(counts, window.aTotal, window.aKnown);
  const rate = events >= settings.minMessages && events > 0 ? Math.min(1, (counts.bad - window.aBad) / events) : null;
  const next = eventsBetween(counts, window.bTotal, window.bKnown) >= settings.minMessages
    ? { aTotal: window.bTotal, aKnown: window.bKnown ?? 0, aBad: window.bBad, bTotal: counts.total, bKnown: counts.known, bBad: counts.bad }
    : null;
  return { rate, pause: rate !== null && rate > settings.maxFailureRate, next };
}
