import { describe, expect, it } from '@jest/globals';
import { messageCounts, progressOf } from './message-counts.js';

describe('campaign message counts', () => {
  it('total is the sum of every bucket, missing buckets are 0', () => {
    const m = messageCounts([
      { status: 'queued', messages: '5' },
      { status: 'sent', messages: 3 },
      { status: 'delivered', messages: '2' },
      { status: 'failed', messages: '1' },
    ]);
    expect(m).toEqual({ total: 11, queued: 5, sent: 3, unknown: 0, delivered: 2, undelivered: 0, failed: 1, cancelled: 0, skipped: 0, expired: 0 });
  });

  it('progress counts messages that left queued', () => {
    expect(progressOf(messageCounts([{ status: 'queued', messages: 1 }, { status: 'sent', messages: 3 }]))).toBe(0.75);
    expect(progressOf(messageCounts([]))).toBe(0);
  });
});
