/**
 * The campaign lifecycle as one pure state machine. Every status change of a campaign goes through
 * `assertTransition`; anything else is a 409 INVALID_CAMPAIGN_STATE.
 */
export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export type CampaignAction =
  | 'edit' | 'delete' | 'add-recipients' | 'schedule' | 'enqueue' | 'pause' | 'resume' | 'cancel' | 'finish' | 'expire';

const ALLOWED: Record<CampaignAction, readonly CampaignStatus[]> = {
  edit: ['draft', 'scheduled'],
  delete: ['draft'],
  'add-recipients': ['draft', 'scheduled'],
  schedule: ['draft', 'scheduled'],
  enqueue: ['draft', 'scheduled'],
  pause: ['sending'],
  resume: ['paused'],
  cancel: ['draft', 'scheduled', 'sending', 'paused'],
  finish: ['sending'],
  // Past its expiresAt with nothing left: ends, even while paused — or before its scheduled start.
  expire: ['scheduled', 'sending', 'paused'],
};

const TARGET: Partial<Record<CampaignAction, CampaignStatus>> = {
  schedule: 'scheduled',
  enqueue: 'sending',
  pause: 'paused',
  resume: 'sending',
  cancel: 'cancelled',
  expire: 'completed',
};

export function canPerform(status: CampaignStatus, action: CampaignAction): boolean {
  return ALLOWED[action].includes(status);
}

/** Statuses from which `action` may start; used in conditional UPDATEs so races cannot skip the check. */
export function statusesAllowing(action: CampaignAction): readonly CampaignStatus[] {
  return ALLOWED[action];
}

/** The status an action leads to (`finish` is completed or failed, decided by the outcome). */
export function targetStatus(action: CampaignAction): CampaignStatus | undefined {
  return TARGET[action];
}

export function isTerminal(status: CampaignStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}
