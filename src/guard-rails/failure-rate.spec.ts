import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { EMPTY_WINDOW, judgeFailureRate, type OutcomeCounts } from './failure-rate.js';
import type { FailureWindow } from './guard-rails.types.js';

const settings = { maxFailureRate: 0.2, minMessages: 100 };
/** Counters when every outcome is a per-item rejection or known at once (known = total). */
const at = (total: number, bad: number): OutcomeCounts => ({ total, known: total, bad });

describe('auto-pause failure rate', () => {
  it('judges nothing before minMessages outcomes', () => {
    expect(judgeFailureRate(EMPTY_WINDOW, at(99, 99), settings)).toEqual({ rate: null, pause: false, next: null });
  });

  it('pauses once the share of bad outcomes exceeds the maximum, not when it equals it', () => {
    expect(judgeFailureRate(EMPTY_WINDOW, at(100, 20), settings).pause).toBe(false);
    expect(judgeFailureRate(EMPTY_WINDOW, at(100, 21), settings)).toMatchObject({ rate: 0.21, pause: true });
  });

  it('moves its checkpoints every minMessages outcomes, so an old good run does not hide a new bad one', () => {
    let w: FailureWindow = EMPTY_WINDOW;
    // 10,000 good outcomes, checkpoints moving along.
    for (let total = 100; total <= 10_000; total += 100) {
      const v = judgeFailureRate(w, at(total, 0), settings);
      expect(v.pause).toBe(false);
      if (v.next) w = v.next;
    }
    // Then 60 failures out of the next 100: a cumulative rate would be 0.6 %; the recent one pauses.
    const v = judgeFailureRate(w, at(10_100, 60), settings);
    expect(v.pause).toBe(true);
    expect(v.rate).toBeGreaterThan(0.2);
  });

  it('per-item rejections while no report has come back yet: judged against every message handed over', () => {
    // 1,000 handed to Mitto, 30 refused at once, no delivery report yet: 3 %.
    expect(judgeFailureRate(EMPTY_WINDOW, { total: 1_000, known: 30, bad: 30 }, settings)).toMatchObject({ rate: 0.03, pause: false });
  });

  it('reports of a whole finished send arriving after it: judged against those reports, not the last messages sent', () => {
    // The send of 20,000 is over (no report yet) and the window sits near its end ...
    let w: FailureWindow = EMPTY_WINDOW;
    for (let total = 100; total <= 20_000; total += 100) {
      const v = judgeFailureRate(w, { total, known: 0, bad: 0 }, settings);
      if (v.next) w = v.next;
    }
    // ... then the reports come back, 3 % undelivered: never a pause (the bug: 600 bad over ~200 messages).
    for (let known = 500; known <= 20_000; known += 500) {
      const v = judgeFailureRate(w, { total: 20_000, known, bad: Math.round(known * 0.03) }, settings);
      expect(v.pause).toBe(false);
      if (v.next) w = v.next;
    }
  });

  it('reports that come back 30 % undelivered after the send still pause it', () => {
    let w: FailureWindow = EMPTY_WINDOW;
    for (let total = 100; total <= 20_000; total += 100) {
      const v = judgeFailureRate(w, { total, known: 0, bad: 0 }, settings);
      if (v.next) w = v.next;
    }
    let paused = false;
    for (let known = 100; known <= 1_000 && !paused; known += 100) {
      const v = judgeFailureRate(w, { total: 20_000, known, bad: known * 0.3 }, settings);
      paused = v.pause;
      if (v.next) w = v.next;
    }
    expect(paused).toBe(true);
  });

  it('reads a window stored before `known` existed', () => {
    const old: FailureWindow = { aTotal: 500, aBad: 10, bTotal: 550, bBad: 12 };
    expect(judgeFailureRate(old, { total: 600, known: 400, bad: 20 }, settings).pause).toBe(false);
  });

  it('always judges at least the latest minMessages events and at most about twice as many (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 })), { maxLength: 60 }),
        (steps) => {
          let w: FailureWindow = EMPTY_WINDOW;
          const c: OutcomeCounts = { total: 0, known: 0, bad: 0 };
          for (const [handed, learnt, badShare] of steps) {
            c.total += handed;
            const newlyKnown = Math.min(learnt, c.total - c.known);
            c.known += newlyKnown;
            c.bad += Math.min(badShare, newlyKnown);
            const v = judgeFailureRate(w, c, settings);
            if (v.rate !== null) {
              const covered = Math.max(c.total - w.aTotal, c.known - (w.aKnown ?? 0));
              expect(covered).toBeGreaterThanOrEqual(settings.minMessages);
              // each checkpoint gap is under minMessages + one step of events (a step arrives at once)
              expect(covered).toBeLessThan(2 * (settings.minMessages + 300));
              expect(v.rate).toBeGreaterThanOrEqual(0);
              expect(v.rate).toBeLessThanOrEqual(1);
            }
            if (v.next) w = v.next;
          }
        },
      ),
    );
  });
});
