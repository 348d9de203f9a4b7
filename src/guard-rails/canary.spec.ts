import { describe, expect, it } from '@jest/globals';
import { judgeCanary } from './canary.js';

const settings = { size: 100, minDeliveredRate: 0.9, waitSeconds: 60 };
const t0 = new Date('2026-11-30T10:00:00Z');
const later = (s: number) => new Date(t0.getTime() + s * 1000);

describe('canary', () => {
  it('passes once the delivered share of the sendable canary reaches the rate', () => {
    expect(judgeCanary({ sendable: 100, delivered: 89, waiting: 0 }, settings, t0, later(1))).toBe('wait');
    expect(judgeCanary({ sendable: 100, delivered: 90, waiting: 0 }, settings, t0, later(1))).toBe('pass');
    // Suppressed numbers of the canary are not sendable and do not count against it.
    expect(judgeCanary({ sendable: 80, delivered: 72, waiting: 0 }, settings, t0, later(1))).toBe('pass');
  });

  it('fails when waitSeconds pass after it went out without that share', () => {
    expect(judgeCanary({ sendable: 100, delivered: 50, waiting: 0 }, settings, t0, later(59))).toBe('wait');
    expect(judgeCanary({ sendable: 100, delivered: 50, waiting: 0 }, settings, t0, later(60))).toBe('fail');
  });

  it('does not time out before it went out (say, waiting for its send window)', () => {
    expect(judgeCanary({ sendable: 100, delivered: 0, waiting: 100 }, settings, null, later(10_000))).toBe('wait');
  });

  it('a rate of 0, or nothing sendable, passes at once', () => {
    expect(judgeCanary({ sendable: 100, delivered: 0, waiting: 100 }, { ...settings, minDeliveredRate: 0 }, null, t0)).toBe('pass');
    expect(judgeCanary({ sendable: 0, delivered: 0, waiting: 0 }, settings, null, t0)).toBe('pass');
  });
});
