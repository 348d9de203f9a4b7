import type { CanarySettings } from './guard-rails.types.js';

/** Where the canary of a pending campaign stands (its messages are those with seq below the boundary). */
export interface CanaryCounts {
  /** Canary messages that can still go out or went out (skipped, cancelled and expired ones excluded). */
  sendable: number;
  delivered: number;
  /** Still queued: the canary has not gone out completely. */
  waiting: number;
}

export type CanaryVerdict = 'pass' | 'fail' | 'wait';

/**
 * The canary's judgement: pass once the delivered share of the sendable canary reaches
 * `minDeliveredRate`; fail once `waitSeconds` have passed since it went out without that; else wait.
 */
export function judgeCanary(counts: CanaryCounts, settings: CanarySettings, sentAt: Date | null, now: Date): CanaryVerdict {
  if (counts.sendable === 0 || counts.delivered >= Math.ceil(settings.minDeliveredRate * counts.sendable - 1e-9)) return 'pass';
  if (sentAt && now.getTime() >= sentAt.getTime() + settings.waitSeconds * 1000) return 'fail';
  return 'wait';
}
