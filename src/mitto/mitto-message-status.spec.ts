import { describe, it, expect } from '@jest/globals';

import { classifyLookupResponse, classifyLookupTransportError, mittoDeliveryBucket, parseMittoDeliveryReports, parseMittoMessageStatus } from './mitto-message-status.js';

const NOW = Date.parse('2025-01-01T00:00:00.000Z');
const KEY = 'sk_live_SECRET_KEY_123456';

const json = (value: unknown) => JSON.stringify(value);
const codeError = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('message status and delivery reports', () => {
  const message = { messageId: 'M1', deliveryStatus: 'Delivered', description: 'ok', reference: 'r1', messageParts: 2, updatedAt: '2025-01-01T00:00:00Z' };

  it('parses the Message model and drops mistyped optional fields', () => {
    expect(parseMittoMessageStatus({ ...message, text: 42, extra: true })).toEqual(message);
  });
  it('requires messageId and deliveryStatus', () => {
    expect(parseMittoMessageStatus({ messageId: 'M1' })).toBeNull();
    expect(parseMittoMessageStatus({ deliveryStatus: 'Sent' })).toBeNull();
    expect(parseMittoMessageStatus('M1')).toBeNull();
    expect(parseMittoMessageStatus(null)).toBeNull();
  });
  it('parses one report or an array, counting invalid entries', () => {
    expect(parseMittoDeliveryReports(message)).toEqual({ reports: [message], invalid: 0 });
    expect(parseMittoDeliveryReports([message, { nope: 1 }])).toEqual({ reports: [message], invalid: 1 });
  });
  it('buckets delivery statuses, unknown values included', () => {
    expect(mittoDeliveryBucket('Delivered')).toBe('delivered');
    expect(mittoDeliveryBucket('sent')).toBe('pending');
    expect(mittoDeliveryBucket('Pending')).toBe('pending');
    for (const s of ['Failure', 'Undelivered', 'Expired', 'REJECTED']) expect(mittoDeliveryBucket(s)).toBe('failed');
    expect(mittoDeliveryBucket('Buffered')).toBe('unknown');
    expect(mittoDeliveryBucket('')).toBe('unknown');
  });
});

describe('classifyLookupResponse', () => {
  const lookup = (status: number, body: string, headers: Record<string, string> = {}) =>
    classifyLookupResponse('M1', status, headers, body, { nowMs: NOW, secrets: [KEY] });

  it('200 → found', () => {
    expect(lookup(200, json({ messageId: 'M1', deliveryStatus: 'Sent' }))).toEqual({
      kind: 'found',
      message: { messageId: 'M1', deliveryStatus: 'Sent' },
    });
  });
  it('404 → not-found', () => {
    expect(lookup(404, '')).toEqual({ kind: 'not-found' });
  });
  it('200 with bad JSON → retryable error; wrong shape or other id → not retryable', () => {
    expect(lookup(200, '{')).toMatchObject({ kind: 'error', retryable: true });
    expect(lookup(200, json({ foo: 1 }))).toMatchObject({ kind: 'error', retryable: false });
    expect(lookup(200, json({ messageId: 'M2', deliveryStatus: 'Sent' }))).toMatchObject({ kind: 'error', retryable: false });
  });
  it('429/5xx → retryable (with Retry-After); 400/401/403 → not retryable', () => {
    expect(lookup(429, '', { 'retry-after': '2' })).toMatchObject({ kind: 'error', retryable: true, retryAfterMs: 2000 });
    for (const s of [500, 502, 503, 504]) expect(lookup(s, '')).toMatchObject({ kind: 'error', retryable: true });
    for (const s of [400, 401, 403]) expect(lookup(s, `bad ${KEY}`)).toMatchObject({ kind: 'error', retryable: false });
    const o = lookup(401, `bad ${KEY}`);
    expect(o.kind === 'error' && o.reason).not.toContain(KEY);
  });
  it('transport errors are retryable except local invalid input', () => {
    expect(classifyLookupTransportError(codeError('ECONNRESET'))).toMatchObject({ kind: 'error', retryable: true });
    expect(classifyLookupTransportError(codeError('UND_ERR_HEADERS_TIMEOUT'))).toMatchObject({ kind: 'error', retryable: true });
    expect(classifyLookupTransportError(codeError('UND_ERR_INVALID_ARG'))).toMatchObject({ kind: 'error', retryable: false });
  });
});
