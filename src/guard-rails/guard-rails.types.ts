/** The guard rails of a campaign as stored (validated by the API's DTOs; see api-contract.md, "Campaign guard rails"). */
export interface SendWindowSettings {
  start: string;
  end: string;
  /** ISO weekdays 1..7 (1 = Monday); absent = every day. */
  days?: number[];
  /** `recipient` (default) or an IANA zone for every recipient. */
  timeZone?: string;
}

export interface AutoPauseSettings {
  maxFailureRate: number;
  minMessages: number;
}

export interface CanarySettings {
  size: number;
  minDeliveredRate: number;
  waitSeconds: number;
}

export type PauseReason = 'USER' | 'FAILURE_RATE' | 'CANARY_FAILED';
export type CanaryState = 'pending' | 'passed' | 'failed';

/** Outcome counters (total with an outcome, and bad ones) at two checkpoints, older `a` and newer `b`. */
/**
 * Auto-pause's two checkpoints (a older, b newer) of the outcome counters: `Total` messages handed to
 * Mitto or refused by it, `Known` of them with a final outcome (delivered, undelivered, failed), `Bad` of
 * those failed or undelivered. (`aKnown`/`bKnown` may be missing in a window stored before they existed.)
 */
export interface FailureWindow {
  aTotal: number;
  aKnown?: number;
  aBad: number;
  bTotal: number;
  bKnown?: number;
  bBad: number;
}

export const DEFAULT_MIN_MESSAGES = 100;
