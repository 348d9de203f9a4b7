import { describe, it, expect } from '@jest/globals';

import { parseRetryAfter, redact, truncate } from './mitto-response.js';

const NOW = Date.parse('2025-01-01T00:00:00.000Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
  });
  it('reads an IMF-fixdate', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', NOW)).toBe(30_000);
  });
  it('reads the obsolete RFC 850 and asctime forms', () => {
    expect(parseRetryAfter('Wednesday, 01-Jan-25 00:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfter('Wed Jan  1 00:00:05 2025', NOW)).toBe(5_000);
  });
  it('gives 0 for a date in the past', () => {
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', NOW)).toBe(0);
  });
  it('takes the first value of a repeated header', () => {
    expect(parseRetryAfter(['7', '9'], NOW)).toBe(7_000);
  });
  it('ignores absent, empty, negative, fractional and garbage values', () => {
    for (const v of [undefined, '', '   ', '-1', '1.5', '12abc', 'soon', '2025-01-01', 'Foo, 01 Jan 2025 00:00:30 GMT']) {
      expect(parseRetryAfter(v, NOW)).toBeUndefined();
    }
  });
});

describe('helpers', () => {
  it('truncate keeps short text and cuts long text to max', () => {
    expect(truncate('abc', 5)).toBe('abc');
    expect(truncate('abcdefgh', 5)).toBe('abcd…');
    expect(truncate('abc😀def', 5).length).toBeLessThanOrEqual(5);
  });
  it('redact replaces every occurrence and ignores empty secrets', () => {
    expect(redact('k k', ['k'])).toBe('[REDACTED] [REDACTED]');
    expect(redact('abc', [''])).toBe('abc');
  });
});
