import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PhoneNumberFilter, PhoneNumberSet } from './phone-number-set.js';

describe('PhoneNumberSet', () => {
  it('tells a new number from a repeated one', () => {
    const set = new PhoneNumberSet(4);
    expect(set.add('+41791234567')).toBe(true);
    expect(set.add('+41791234568')).toBe(true);
    expect(set.add('+41791234567')).toBe(false);
    expect(set.has('+41791234567')).toBe(true);
    expect(set.has('+41791234569')).toBe(false);
    expect(set.add('+999999999999999')).toBe(true);
    expect(set.add('+999999999999999')).toBe(false);
    expect(set.size).toBe(3);
  });

  it('refuses anything but E.164', () => {
    const set = new PhoneNumberSet();
    expect(() => set.add('0791234567')).toThrow(/E\.164/);
    expect(() => set.add('+0791234567')).toThrow(/E\.164/);
    expect(() => set.add('+123456789012345678901')).toThrow(/E\.164/);
  });

  it('keeps numbers longer than 15 digits apart exactly (libphonenumber-js accepts longer ones)', () => {
    const set = new PhoneNumberSet();
    // Equal as doubles, different numbers.
    expect(Number('8112345678901234567')).toBe(Number('8112345678901234568'));
    expect(set.add('+8112345678901234567')).toBe(true);
    expect(set.has('+8112345678901234568')).toBe(false);
    expect(set.add('+8112345678901234568')).toBe(true);
    expect(set.add('+8112345678901234567')).toBe(false);
    expect(set.size).toBe(2);
    const filter = new PhoneNumberFilter(10);
    expect(filter.add('+8112345678901234567')).toBe(true);
    expect(filter.add('+8112345678901234567')).toBe(false);
  });

  it('answers like a Set<string>, across growth', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^\+[1-9]\d{0,18}$/), { maxLength: 1000 }), (numbers) => {
        const set = new PhoneNumberSet(2);
        const reference = new Set<string>();
        for (const n of numbers) {
          expect(set.has(n)).toBe(reference.has(n));
          expect(set.add(n)).toBe(!reference.has(n));
          reference.add(n);
        }
        expect(set.size).toBe(reference.size);
      }),
      { numRuns: 100 },
    );
  });

  it('holds a million numbers', () => {
    const set = new PhoneNumberSet();
    let added = 0;
    for (let i = 0; i < 1_000_000; i++) if (set.add(`+4179${String(i).padStart(7, '0')}`)) added++;
    let again = 0;
    for (let i = 0; i < 1_000_000; i += 997) if (set.add(`+4179${String(i).padStart(7, '0')}`)) again++;
    expect([added, again, set.size]).toEqual([1_000_000, 0, 1_000_000]);
  });
});

describe('PhoneNumberFilter', () => {
  it('never forgets a number, and rarely claims one it has not seen', () => {
    const n = 200_000;
    const filter = new PhoneNumberFilter(n);
    let falsePositives = 0;
    for (let i = 0; i < n; i++) if (!filter.add(`+4179${String(i).padStart(7, '0')}`)) falsePositives++;
    for (let i = 0; i < n; i += 7) expect(filter.add(`+4179${String(i).padStart(7, '0')}`)).toBe(false);
    // About 1% at the expected count.
    expect(falsePositives / n).toBeLessThan(0.015);
    expect(filter.bytes).toBeLessThan(n * 2);
  });

  it('has no false negatives (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^\+[1-9]\d{0,14}$/), { maxLength: 500 }), (numbers) => {
        const filter = new PhoneNumberFilter(numbers.length);
        for (const n of numbers) filter.add(n);
        for (const n of numbers) expect(filter.add(n)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});
