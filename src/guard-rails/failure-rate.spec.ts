import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { EMPTY_WINDOW, judgeFailureRate } from './failure-rate.js';
import type { FailureWindow } from './guard-rails.types.js';

const settings = { maxFailureRate: 0.2, minMessages: 100 };

describe('auto-pause failure rate', () => {
  it('judges nothing before minMessages outcomes', () => {
    expect(judgeFailureRate(EMPTY_WINDOW, 99, 99, settings)).toEqual({ rate: null, pause: false, next: null });
  });

  it('pauses once the share of bad outcomes exceeds the maximum, not when it equals it', () => {
    expect(judgeFailureRate(EMPTY_WINDOW, 100, 20, settings).pause).toBe(false);
    expect(judgeFailureRate(EMPTY_WINDOW, 100, 21, settings)).toMatchObject({ rate: 0.21, pause: true });
  });

  it('moves its checkpoints every minMessages outcomes, so an old good run does not hide a new bad one', () => {
    let w: FailureWindow = EMPTY_WINDOW;
    // 10,000 good outcomes, checkpoints moving along.
    for (let total = 100; total <= 10_000; total += 100) {
      const v = judgeFailureRate(w, total, 0, settings);
      expect(v.pause).toBe(false);
      if (v.next) w = v.next;
    }
    // Then 60 failures out of the next 100: a cumulative rate would be 0.6 %; the recent one pauses.
    const v = judgeFailureRate(w, 10_100, 60, settings);
    expect(v.pause).toBe(true);
    expect(v.rate).toBeGreaterThan(0.2);
  });

  it('always judges at least the latest minMessages outcomes and at most about twice as many (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 300 })), { maxLength: 60 }), (steps) => {
        let w: FailureWindow = EMPTY_WINDOW;
        let total = 0;
        let bad = 0;
        for (const [n, b] of steps) {
          total += n;
          bad += Math.min(b, n);
          const v = judgeFailureRate(w, total, bad, settings);
          if (v.rate !== null) {
            const covered = total - w.aTotal;
            expect(covered).toBeGreaterThanOrEqual(settings.minMessages);
            // each checkpoint gap is under minMessages + one step of outcomes (a step arrives at once)
            expect(covered).toBeLessThan(2 * (settings.minMessages + 300));
          }
          if (v.next) w = v.next;
        }
      }),
    );
  });
});
