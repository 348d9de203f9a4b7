import { afterEach, beforeEach, describe, it, expect, jest } from '@jest/globals';
import { Coalescer } from './coalescer.js';

describe('Coalescer', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  const flush = () => jest.advanceTimersByTimeAsync(0);

  it('runs at once, then at most once per interval however many triggers come', async () => {
    const starts: number[] = [];
    const c = new Coalescer(async () => void starts.push(Date.now()), 250);
    c.trigger();
    await flush();
    for (let i = 0; i < 50; i++) c.trigger();
    await jest.advanceTimersByTimeAsync(100);
    expect(starts).toEqual([0]);
    await jest.advanceTimersByTimeAsync(200);
    expect(starts).toEqual([0, 250]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(starts).toEqual([0, 250]);
  });

  it('never runs twice at once; a trigger during a run causes exactly one more run', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const c = new Coalescer(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs++;
      await new Promise((r) => setTimeout(r, 400));
      running--;
    }, 250);
    c.trigger();
    await jest.advanceTimersByTimeAsync(10);
    c.trigger();
    c.trigger();
    await jest.advanceTimersByTimeAsync(2000);
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it('does nothing after stop', async () => {
    let runs = 0;
    const c = new Coalescer(async () => void runs++, 250);
    c.trigger();
    await flush();
    c.trigger();
    c.stop();
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(1);
  });
});
