import { describe, expect, it } from '@jest/globals';
import {
  CAMPAIGN_STATUSES, canPerform, finishStatus, isTerminal, targetStatus, type CampaignAction, type CampaignStatus,
} from './campaign-state.js';
import { statusAllows, statusLiteral } from './campaign-state.sql.js';

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
  expire: ['sending', 'paused'],
  'expire-unstarted': ['scheduled'],
  'auto-pause': ['sending'],
  'fail-start': ['scheduled'],
};

describe('campaign state machine', () => {
  for (const [action, from] of Object.entries(allowed) as Array<[CampaignAction, CampaignStatus[]]>) {
    it(`${action} is allowed exactly from ${from.join(', ')}`, () => {
      for (const status of CAMPAIGN_STATUSES) expect(canPerform(status, action)).toBe(from.includes(status));
    });
  }

  it('a campaign past its expiresAt ends from scheduled, sending or paused', () => {
    const expiring = CAMPAIGN_STATUSES.filter((s) => canPerform(s, 'expire') || canPerform(s, 'expire-unstarted'));
    expect(expiring).toEqual(['scheduled', 'sending', 'paused']);
  });

  it('names the status each action leads to', () => {
    expect(targetStatus('enqueue')).toBe('sending');
    expect(targetStatus('pause')).toBe('paused');
    expect(targetStatus('resume')).toBe('sending');
    expect(targetStatus('cancel')).toBe('cancelled');
    expect(targetStatus('schedule')).toBe('scheduled');
    expect(targetStatus('expire')).toBe('completed');
    expect(targetStatus('expire-unstarted')).toBe('completed');
    expect(targetStatus('auto-pause')).toBe('paused');
    expect(targetStatus('fail-start')).toBe('failed');
  });

  it('finish leads to completed if anything was handed to Mitto, else failed', () => {
    expect(finishStatus(true)).toBe('completed');
    expect(finishStatus(false)).toBe('failed');
  });

  it('nothing leaves a terminal status', () => {
    for (const status of CAMPAIGN_STATUSES.filter(isTerminal)) {
      for (const action of Object.keys(allowed) as CampaignAction[]) expect(canPerform(status, action)).toBe(false);
    }
  });

  it('renders the table as SQL literals', () => {
    expect(statusAllows('c.status', 'finish')).toBe(`c.status = 'sending'`);
    expect(statusAllows('c.status', 'expire')).toBe(`c.status IN ('sending', 'paused')`);
    expect(statusLiteral('failed')).toBe(`'failed'`);
    expect(() => statusLiteral(`x' OR '1` as CampaignStatus)).toThrow();
  });
});
