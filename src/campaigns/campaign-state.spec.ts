import { describe, expect, it } from '@jest/globals';
import { CAMPAIGN_STATUSES, canPerform, isTerminal, targetStatus, type CampaignAction, type CampaignStatus } from './campaign-state.js';

const allowed: Record<CampaignAction, CampaignStatus[]> = {
  edit: ['draft', 'scheduled'],
  delete: ['draft'],
  'add-recipients': ['draft', 'scheduled'],
  schedule: ['draft', 'scheduled'],
  enqueue: ['draft', 'scheduled'],
  pause: ['sending'],
  resume: ['paused'],
  cancel: ['draft', 'scheduled', 'sending', 'paused'],
  finish: ['sending'],
  expire: ['scheduled', 'sending', 'paused'],
};

describe('campaign state machine', () => {
  for (const [action, from] of Object.entries(allowed) as Array<[CampaignAction, CampaignStatus[]]>) {
    it(`${action} is allowed exactly from ${from.join(', ')}`, () => {
      for (const status of CAMPAIGN_STATUSES) expect(canPerform(status, action)).toBe(from.includes(status));
    });
  }

  it('names the status each action leads to', () => {
    expect(targetStatus('enqueue')).toBe('sending');
    expect(targetStatus('pause')).toBe('paused');
    expect(targetStatus('resume')).toBe('sending');
    expect(targetStatus('cancel')).toBe('cancelled');
    expect(targetStatus('schedule')).toBe('scheduled');
    expect(targetStatus('expire')).toBe('completed');
  });

  it('nothing leaves a terminal status', () => {
    for (const status of CAMPAIGN_STATUSES.filter(isTerminal)) {
      for (const action of Object.keys(allowed) as CampaignAction[]) expect(canPerform(status, action)).toBe(false);
    }
  });
});
