import { describe, expect, it } from '@jest/globals';
import { settledWithin } from './settled-within.js';

describe('settledWithin', () => {
  it('says how a promise settled in time', async () => {
    await expect(settledWithin(Promise.resolve(1), 50)).resolves.toBe('fulfilled');
    await expect(settledWithin(Promise.reject(new Error('x')), 50)).resolves.toBe('rejected');
  });

  it('gives up after ms, and a late rejection is absorbed', async () => {
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 60));
    await expect(settledWithin(late, 10)).resolves.toBe('timeout');
    await new Promise((r) => setTimeout(r, 80)); // the rejection lands here, handled
  });
});
