import { describe, expect, it } from '@jest/globals';
import { mapOutcome } from './send-outcome-mapping.js';

const messages = [
  { id: 'a', seq: 10, phone: '+41790000001', text: 'x' },
  { id: 'b', seq: 11, phone: '+41790000002', text: 'y' },
];

describe('mapping a Mitto outcome onto a batch', () => {
  it('accepted: ids mapped by position, per-item rejections fail', () => {
    const r = mapOutcome(messages, {
      kind: 'accepted',
      bulkId: 'bulk-1',
      items: [{ status: 'accepted', providerMessageId: 'P1' }, { status: 'rejected', errorCode: 'INVALID_DESTINATION', errorMessage: 'bad' }],
    });
    expect(r.bulkId).toBe('bulk-1');
    expect(r.outcomes).toEqual([
      { seq: 10, status: 'sent', providerMessageId: 'P1' },
      { seq: 11, status: 'failed', errorCode: 'MITTO_INVALID_DESTINATION', errorMessage: 'bad' },
    ]);
    expect(r.retry).toBeUndefined();
  });

  it('retry: no outcome (the messages stay queued); a 429 is a throttle, not a failure', () => {
    const r = mapOutcome(messages, { kind: 'retry', reason: 'HTTP 429', httpStatus: 429, retryAfterMs: 2000 });
    expect(r.outcomes).toEqual([]);
    expect(r.retry).toEqual({ reason: 'HTTP 429', retryAfterMs: 2000, throttled: true });
    expect(mapOutcome(messages, { kind: 'retry', reason: 'HTTP 500', httpStatus: 500 }).retry?.throttled).toBe(false);
  });

  it('rejected: every message fails with the code', () => {
    const r = mapOutcome(messages, { kind: 'rejected', reason: 'HTTP 401', httpStatus: 401, errorCode: 'HTTP_401' });
    expect(r.outcomes.every((x) => x.status === 'failed' && x.errorCode === 'MITTO_HTTP_401')).toBe(true);
  });

  it('ambiguous: every message is unknown, never queued again', () => {
    const r = mapOutcome(messages, { kind: 'ambiguous', reason: 'socket hang up' });
    expect(r.outcomes.map((x) => [x.status, x.errorCode])).toEqual([['unknown', 'AMBIGUOUS'], ['unknown', 'AMBIGUOUS']]);
    expect(r.retry).toBeUndefined();
  });
});
