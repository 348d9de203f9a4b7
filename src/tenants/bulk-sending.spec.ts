import { describe, expect, it } from '@jest/globals';
import { BULK_SENDING, usesBulk } from './bulk-sending.js';

describe('bulk sending per tenant', () => {
  it.each([
    ['default', false, false],
    ['default', true, true],
    ['on', false, true],
    ['on', true, true],
    ['off', false, false],
    ['off', true, false],
  ] as const)('%s with USE_BULK_SMS=%s → bulk %s', (setting, flag, expected) => {
    expect(usesBulk(setting, flag)).toBe(expected);
  });

  it('knows exactly the three settings of the contract', () => {
    expect([...BULK_SENDING]).toEqual(['default', 'on', 'off']);
  });
});
