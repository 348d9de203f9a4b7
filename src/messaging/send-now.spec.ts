import { describe, expect, it } from '@jest/globals';
import { closedWindow, sendNow } from './send-now.js';

// 09:00–17:00 in each recipient's zone; at 12:00 UTC it is open in London, closed in Tokyo (21:00).
const ctx = { send_window: { start: '09:00', end: '17:00' }, canary_state: null, canary_until_seq: null };
const at = new Date('2026-06-10T12:00:00Z');
const message = (seq: number, variables: Record<string, string> | null) =>
  ({ id: `m${seq}`, seq, phone: '+447700900123', variables, segments: 1, suppressed: false });

describe('sendNow and closedWindow read the same zone for a message', () => {
  it('a `timeZone` variable decides over the number, in both', () => {
    const london = message(0, null);
    const tokyo = message(1, { timeZone: 'Asia/Tokyo' });
    const plan = sendNow([london, tokyo], ctx, at, 'UTC');
    expect(plan.now.map((m) => m.seq)).toEqual([0]);
    // Tokyo opens at 09:00 local = 00:00 UTC the next day.
    expect(plan.nextOpening?.toISOString()).toBe('2026-06-11T00:00:00.000Z');
    expect(closedWindow([london], ctx, at, 'UTC')).toBeNull();
    expect(closedWindow([tokyo], ctx, at, 'UTC')?.toISOString()).toBe('2026-06-11T00:00:00.000Z');
  });

  it('holds the messages from the canary boundary on while the canary is pending', () => {
    const plan = sendNow([message(0, null), message(1, null)], { send_window: null, canary_state: 'pending', canary_until_seq: 1 }, at, 'UTC');
    expect(plan).toMatchObject({ nextOpening: null, heldByCanary: true });
    expect(plan.now.map((m) => m.seq)).toEqual([0]);
  });
});
