/**
 * The campaign lifecycle as one pure state machine. Every status change of a campaign goes through it:
 * the API's changes check `canPerform` (a 409 INVALID_CAMPAIGN_STATE otherwise), and every conditional
 * `UPDATE campaigns SET status = …` takes its source statuses from `statusesAllowing` and its target from
 * `targetStatus` (or `finishStatus`), as parameters or as literals (campaign-state.sql.ts).
 */
export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export type CampaignAction =
  | 'edit' | 'delete' | 'add-recipients' | 'schedule' | 'enqueue' | 'pause' | 'resume' | 'cancel' | 'finish'
  | 'expire' | 'expire-unstarted' | 'auto-pause' | 'fail-start';

const ALLOWED: Record<CampaignAction, readonly CampaignStatus[]> = {
  edit: ['draft', 'scheduled'],
  delete: ['draft'],
  'add-recipients': ['draft', 'scheduled'],
  schedule: ['draft', 'scheduled'],
  enqueue: ['draft', 'scheduled'],
  pause: ['sending'],
  resume: ['paused'],
  cancel: ['draft', 'scheduled', 'sending', 'paused'],
  // Nothing left to send: completed or failed (`finishStatus`).
  finish: ['sending'],
  // Past its expiresAt with nothing left open: ends, even while paused…
  expire: ['sending', 'paused'],
  // …or before its scheduled start (its messages all expire).
  'expire-unstarted': ['scheduled'],
  // A guard rail (failure rate, failed canary) pauses the campaign; `pauseReason` says which.
  'auto-pause': ['sending'],
  // The delayed start of a scheduled campaign was refused (credits, subscription, recipients).
  'fail-start': ['scheduled'],
};

const TARGET = {
  schedule: 'scheduled',
  enqueue: 'sending',
  pause: 'paused',
  resume: 'sending',
  cancel: 'cancelled',
  expire: 'completed',
  'expire-unstarted': 'completed',
  'auto-pause': 'paused',
  'fail-start': 'failed',
} as const satisfies Partial<Record<CampaignAction, CampaignStatus>>;

/** Actions that lead to one status (`finish` leads to one of two: `finishStatus`). */
export type StatusChange = keyof typeof TARGET;

export function canPerform(status: CampaignStatus, action: CampaignAction): boolean {
  return ALLOWED[action].includes(status);
}

/** Statuses from which `action` may start; used in conditional UPDATEs so races cannot skip the check. */
export function statusesAllowing(action: CampaignAction): readonly CampaignStatus[] {
  return ALLOWED[action];
}

/** The status an action leads to. */
export function targetStatus(action: StatusChange): CampaignStatus {
  return TARGET[action];
}

/**
 * Where `finish` leads: `completed` if at least one message was handed to Mitto (sent, delivered,
 * undelivered or unknown), else `failed`. finishIfDone decides this in its UPDATE from the counters.
 */
export function finishStatus(anyHandedOver: boolean): CampaignStatus {
  return anyHandedOver ? 'completed' : 'failed';
}

export function isTerminal(status: CampaignStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}
