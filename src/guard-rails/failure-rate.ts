import type { AutoPauseSettings, FailureWindow } from './guard-rails.types.js';

export const EMPTY_WINDOW: FailureWindow = { aTotal: 0, aBad: 0, bTotal: 0, bBad: 0 };

export interface FailureVerdict {
  /** Share of failed + undelivered among the outcomes since checkpoint `a` (null: too few to judge). */
  rate: number | null;
  pause: boolean;
  /** The checkpoints to store when they move on (null: unchanged). */
  next: FailureWindow | null;
}

/**
 * Auto-pause's judgement, from the campaign's outcome counters (`total` messages with an outcome, `bad`
 * of them failed or undelivered). The rate covers the outcomes since checkpoint `a`; once `minMessages`
 * more outcomes have come since checkpoint `b`, `a` moves to `b` and `b` to now. So the rate always
 * covers at least the latest `minMessages` outcomes and at most about twice as many: recent, and never
 * judged on fewer than `minMessages`. Late delivery reports of old messages count where they arrive.
 */
export function judgeFailureRate(window: FailureWindow, total: number, bad: number, settings: AutoPauseSettings): FailureVerdict {
  const outcomes = total - window.aTotal;
  const rate = outcomes >= settings.minMessages && outcomes > 0 ? (bad - window.aBad) / outcomes : null;
  const next = total - window.bTotal >= settings.minMessages ? { aTotal: window.bTotal, aBad: window.bBad, bTotal: total, bBad: bad } : null;
  return { rate, pause: rate !== null && rate > settings.maxFailureRate, next };
}
