import { describe, expect, it } from '@jest/globals';
import { denseOutcomes, jsonSafe } from './campaign-batches.repository.js';

describe('denseOutcomes (the result write addresses messages by seq - first)', () => {
  it('puts each outcome at its seq minus the first, and leaves the gaps null (not written)', () => {
    const d = denseOutcomes([
      { seq: 203, status: 'sent', providerMessageId: 'p3' },
      { seq: 200, status: 'skipped', errorCode: 'SUPPRESSED' },
      { seq: 205, status: 'failed', errorCode: 'INVALID_DESTINATION', errorMessage: 'no' },
    ]);
    expect(d).toEqual({
      first: 200,
      status: ['skipped', null, null, 'sent', null, 'failed'],
      providerId: [null, null, null, 'p3', null, null],
      errorCode: ['SUPPRESSED', null, null, null, null, 'INVALID_DESTINATION'],
      errorMessage: [null, null, null, null, null, 'no'],
    });
  });

  it('gives empty arrays for no outcomes (a release without results writes no message)', () => {
    expect(denseOutcomes([])).toEqual({ first: 0, status: [], providerId: [], errorCode: [], errorMessage: [] });
  });

  it('cuts error messages at 1,000 characters', () => {
    expect(denseOutcomes([{ seq: 7, status: 'failed', errorMessage: 'x'.repeat(5000) }]).errorMessage[0]).toHaveLength(1000);
  });
});

describe('jsonSafe (strings the result write sends inside jsonb)', () => {
  it('turns lone surrogates and NUL into U+FFFD and keeps everything else', () => {
    expect(jsonSafe('ok \u{1F600} "q" \\ é')).toBe('ok \u{1F600} "q" \\ é');
    expect(jsonSafe('a\ud800b')).toBe('a\ufffdb');
    expect(jsonSafe('a\udc00b')).toBe('a\ufffdb');
    expect(jsonSafe('nul\u0000')).toBe('nul\ufffd');
    expect(jsonSafe(null)).toBeNull();
  });

  it('mends a pair cut by the 1,000-character limit', () => {
    const message = `${'x'.repeat(999)}\u{1F600}`;
    const [cut] = denseOutcomes([{ seq: 0, status: 'failed', errorMessage: message }]).errorMessage;
    expect(cut).toBe(`${'x'.repeat(999)}\ufffd`);
  });
});
