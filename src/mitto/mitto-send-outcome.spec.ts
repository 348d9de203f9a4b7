import { describe, it, expect } from '@jest/globals';

import { classifyHttpResponse, classifyTransportError } from './mitto-send-outcome.js';
import { errorCodes } from './mitto-response.js';
import { MITTO_REASON_MAX_CHARS, type MittoSendOutcome } from './mitto.types.js';

const NOW = Date.parse('2025-01-01T00:00:00.000Z');
const KEY = 'sk_live_SECRET_KEY_123456';

const json = (value: unknown) => JSON.stringify(value);
const codeError = (code: string, message = code): Error => Object.assign(new Error(message), { code });
const classify = (count: number, status: number, body: string, headers: Record<string, string> = {}, references?: string[]) =>
  classifyHttpResponse(count, status, headers, body, { nowMs: NOW, secrets: [KEY], ...(references ? { references } : {}) });

function expectKind<K extends MittoSendOutcome['kind']>(o: MittoSendOutcome, kind: K): Extract<MittoSendOutcome, { kind: K }> {
  expect(o.kind).toBe(kind);
  return o as Extract<MittoSendOutcome, { kind: K }>;
}

describe('classifyHttpResponse: accepted', () => {
  it('maps a bulk answer item by item, keeping bulkId', () => {
    const o = expectKind(
      classify(2, 200, json({ bulkId: 'b-1', messages: [{ messageId: 'M1', trafficAccountId: 't' }, { messageId: 'M2' }] })),
      'accepted',
    );
    expect(o).toEqual({
      kind: 'accepted',
      bulkId: 'b-1',
      items: [
        { status: 'accepted', providerMessageId: 'M1' },
        { status: 'accepted', providerMessageId: 'M2' },
      ],
    });
  });
  it('accepts any 2xx (201, 202) and a missing bulkId', () => {
    for (const status of [201, 202]) {
      const o = expectKind(classify(1, status, json({ messages: [{ messageId: 'M1' }] })), 'accepted');
      expect(o.bulkId).toBeUndefined();
      expect(o.items).toEqual([{ status: 'accepted', providerMessageId: 'M1' }]);
    }
  });
  it('reads a single-send answer given as the item itself', () => {
    const o = expectKind(classify(1, 200, json({ messageId: 'M1', trafficAccountId: 't' })), 'accepted');
    expect(o.items).toEqual([{ status: 'accepted', providerMessageId: 'M1' }]);
  });
  it('does not read a bare item as the answer to more than one message', () => {
    expectKind(classify(2, 200, json({ messageId: 'M1' })), 'ambiguous');
  });
  it('checks echoed references against the request order', () => {
    const body = json({ messages: [{ messageId: 'M1', reference: 'r1' }, { messageId: 'M2', reference: 'r2' }] });
    expectKind(classify(2, 200, body, {}, ['r1', 'r2']), 'accepted');
    const swapped = expectKind(classify(2, 200, body, {}, ['r2', 'r1']), 'ambiguous');
    expect(swapped.reason).toMatch(/order not kept/);
  });
});

describe('classifyHttpResponse: per-item rejections', () => {
  it('reads errorCode/errorMessage', () => {
    const o = expectKind(
      classify(2, 200, json({ messages: [{ messageId: 'M1' }, { errorCode: 'DESTINATION_REJECTED', errorMessage: 'bad number' }] })),
      'accepted',
    );
    expect(o.items).toEqual([
      { status: 'accepted', providerMessageId: 'M1' },
      { status: 'rejected', errorCode: 'DESTINATION_REJECTED', errorMessage: 'bad number' },
    ]);
  });
  it('reads a string `error`', () => {
    const o = expectKind(classify(1, 200, json({ messages: [{ error: 'invalid sender' }] })), 'accepted');
    expect(o.items).toEqual([{ status: 'rejected', errorCode: 'MITTO_ITEM_REJECTED', errorMessage: 'invalid sender' }]);
  });
  it('reads an object `error` { code, message } and numeric codes', () => {
    const o = expectKind(
      classify(2, 200, json({ messages: [{ error: { code: 42, message: 'nope' } }, { errorCode: 7 }] })),
      'accepted',
    );
    expect(o.items).toEqual([
      { status: 'rejected', errorCode: '42', errorMessage: 'nope' },
      { status: 'rejected', errorCode: '7', errorMessage: '7' },
    ]);
  });
  it('accepts an all-rejected 200', () => {
    const o = expectKind(classify(2, 200, json({ messages: [{ error: 'a' }, { error: 'b' }] })), 'accepted');
    expect(o.items.every((i) => i.status === 'rejected')).toBe(true);
  });
  it('truncates and redacts item error messages', () => {
    const o = expectKind(classify(1, 200, json({ messages: [{ errorCode: 'X', errorMessage: `${KEY} ${'x'.repeat(2000)}` }] })), 'accepted');
    const item = o.items[0];
    expect(item?.status).toBe('rejected');
    if (item?.status === 'rejected') {
      expect(item.errorMessage.length).toBeLessThanOrEqual(MITTO_REASON_MAX_CHARS);
      expect(item.errorMessage).not.toContain(KEY);
    }
  });
  it('is ambiguous when an item has neither messageId nor error', () => {
    expectKind(classify(2, 200, json({ messages: [{ messageId: 'M1' }, { trafficAccountId: 't' }] })), 'ambiguous');
    expectKind(classify(1, 200, json({ messages: [{ messageId: '', error: null }] })), 'ambiguous');
  });
  it('is ambiguous when an item is not an object', () => {
    expectKind(classify(2, 200, json({ messages: [{ messageId: 'M1' }, 'M2'] })), 'ambiguous');
  });
});

describe('classifyHttpResponse: ambiguous 2xx', () => {
  it('length mismatch (fewer and more items)', () => {
    const fewer = expectKind(classify(3, 200, json({ messages: [{ messageId: 'M1' }, { messageId: 'M2' }] })), 'ambiguous');
    expect(fewer.httpStatus).toBe(200);
    expect(fewer.reason).toMatch(/2 result item\(s\) for 3 request/);
    expectKind(classify(1, 200, json({ messages: [{ messageId: 'M1' }, { messageId: 'M2' }] })), 'ambiguous');
    expectKind(classify(2, 200, json({ messages: [] })), 'ambiguous');
  });
  it('bad JSON', () => {
    const o = expectKind(classify(1, 200, '{"messages": [{"messageId": "M1"'), 'ambiguous');
    expect(o.reason).toMatch(/unparseable/);
  });
  it('empty body (e.g. 204)', () => {
    expectKind(classify(1, 204, ''), 'ambiguous');
  });
  it('HTML from a proxy', () => {
    expectKind(classify(1, 200, '<html>ok</html>'), 'ambiguous');
  });
  it('JSON that is not an object, or has no messages array', () => {
    expectKind(classify(1, 200, '[]'), 'ambiguous');
    expectKind(classify(1, 200, 'null'), 'ambiguous');
    expectKind(classify(2, 200, json({ bulkId: 'b' })), 'ambiguous');
    expectKind(classify(2, 200, json({ messages: { 0: { messageId: 'M1' } } })), 'ambiguous');
  });
});

describe('classifyHttpResponse: retry', () => {
  it('429 with delta-seconds Retry-After', () => {
    const o = expectKind(classify(2, 429, json({ message: 'slow down' }), { 'retry-after': '3' }), 'retry');
    expect(o).toMatchObject({ httpStatus: 429, retryAfterMs: 3000 });
    expect(o.reason).toContain('slow down');
  });
  it('429 with HTTP-date Retry-After (header name in any case)', () => {
    const o = expectKind(classify(2, 429, '', { 'Retry-After': 'Wed, 01 Jan 2025 00:00:10 GMT' }), 'retry');
    expect(o.retryAfterMs).toBe(10_000);
  });
  it('429 without Retry-After has no retryAfterMs', () => {
    const o = expectKind(classify(2, 429, ''), 'retry');
    expect('retryAfterMs' in o).toBe(false);
  });
  it('503 with Retry-After', () => {
    expect(classify(1, 503, 'maintenance', { 'retry-after': '60' })).toMatchObject({ kind: 'retry', httpStatus: 503, retryAfterMs: 60_000 });
  });
  it('500', () => {
    expect(classify(1, 500, json({ error: 'internal' }))).toMatchObject({ kind: 'retry', httpStatus: 500 });
  });
  it('other 5xx: 501, 505, 507, 521, 523', () => {
    for (const status of [501, 505, 507, 521, 523]) expect(classify(1, status, '')).toMatchObject({ kind: 'retry', httpStatus: status });
  });
  it('408 and 425 say the request was not processed', () => {
    for (const status of [408, 425]) expect(classify(1, status, '')).toMatchObject({ kind: 'retry', httpStatus: status });
  });
});

describe('classifyHttpResponse: rejected', () => {
  it.each([400, 401, 403, 404, 409, 413, 415, 422])('%i', (status) => {
    const o = expectKind(classify(2, status, json({ message: 'no' })), 'rejected');
    expect(o.httpStatus).toBe(status);
    expect(o.errorCode).toBe(`HTTP_${status}`);
    expect(o.reason).toContain('no');
  });
  it('takes the error code from the body when present', () => {
    expect(classify(1, 400, json({ errorCode: 'INVALID_SENDER' }))).toMatchObject({ errorCode: 'INVALID_SENDER' });
    expect(classify(1, 400, json({ code: 'E1' }))).toMatchObject({ errorCode: 'E1' });
    expect(classify(1, 422, json({ error: { code: 'E2', message: 'm' } }))).toMatchObject({ errorCode: 'E2' });
  });
  it('3xx (redirects are not followed)', () => {
    expect(classify(1, 301, '', { location: 'https://x' })).toMatchObject({ kind: 'rejected', httpStatus: 301 });
  });
  it('keeps at most 500 characters of the raw body and never the API key', () => {
    const o = expectKind(classify(1, 401, `invalid key ${KEY} ${'z'.repeat(5000)}`), 'rejected');
    expect(o.reason).not.toContain(KEY);
    expect(o.reason).toContain('[REDACTED]');
    expect(o.reason.length).toBeLessThanOrEqual(MITTO_REASON_MAX_CHARS + 20);
  });
  it('does not leave a prefix of the key when the key straddles the cut', () => {
    const body = 'a'.repeat(MITTO_REASON_MAX_CHARS - 5) + KEY;
    const o = expectKind(classify(1, 401, body), 'rejected');
    expect(o.reason).not.toContain(KEY.slice(0, 4));
  });
});

describe('classifyHttpResponse: ambiguous 5xx and odd statuses', () => {
  it.each([502, 504, 520, 522, 524, 598, 599])('%i', (status) => {
    expect(classify(1, status, 'gateway')).toMatchObject({ kind: 'ambiguous', httpStatus: status });
  });
  it('a status outside 100..599', () => {
    expect(classify(1, 600, '')).toMatchObject({ kind: 'ambiguous', httpStatus: 600 });
  });
});

describe('classifyTransportError', () => {
  it.each(['UND_ERR_CONNECT_TIMEOUT', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CLOSED', 'CERT_HAS_EXPIRED'])(
    '%s → retry (only possible before writing)',
    (code) => {
      expect(classifyTransportError(codeError(code))).toMatchObject({ kind: 'retry' });
      expect(classifyTransportError(codeError(code), { requestStarted: true })).toMatchObject({ kind: 'retry' });
    },
  );
  it.each([
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
    'UND_ERR_SOCKET',
    'ECONNRESET',
    'EPIPE',
    'ETIMEDOUT',
    'EHOSTUNREACH',
    'UND_ERR_ABORTED',
    'UND_ERR_DESTROYED',
    'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
    'HPE_INVALID_CONSTANT',
    'MITTO_DEADLINE_EXCEEDED',
  ])('%s → ambiguous once the request may have been written', (code) => {
    expect(classifyTransportError(codeError(code))).toMatchObject({ kind: 'ambiguous' });
    expect(classifyTransportError(codeError(code), { requestStarted: true })).toMatchObject({ kind: 'ambiguous' });
  });
  it('anything before the request reached a socket → retry', () => {
    for (const code of ['ECONNRESET', 'UND_ERR_SOCKET', 'MITTO_DEADLINE_EXCEEDED', 'EHOSTUNREACH']) {
      expect(classifyTransportError(codeError(code), { requestStarted: false })).toMatchObject({ kind: 'retry' });
    }
  });
  it('unknown errors and non-errors → ambiguous', () => {
    expect(classifyTransportError(new Error('weird'))).toMatchObject({ kind: 'ambiguous' });
    expect(classifyTransportError('boom')).toMatchObject({ kind: 'ambiguous' });
    expect(classifyTransportError(undefined)).toMatchObject({ kind: 'ambiguous' });
  });
  it('invalid local input → rejected with httpStatus 0, even before a socket', () => {
    const o = classifyTransportError(codeError('UND_ERR_INVALID_ARG', 'invalid x-mitto-api-key header'), { requestStarted: false });
    expect(o).toMatchObject({ kind: 'rejected', httpStatus: 0, errorCode: 'UND_ERR_INVALID_ARG' });
  });
  it('finds codes in AggregateError members and cause chains', () => {
    const aggregate = Object.assign(new AggregateError([codeError('ECONNREFUSED', 'connect ECONNREFUSED ::1:1')], ''), {});
    const o = classifyTransportError(aggregate);
    expect(o.kind).toBe('retry');
    expect(o.kind === 'retry' && o.reason).toContain('ECONNREFUSED');
    const wrapped = new Error('fetch failed', { cause: codeError('ENOTFOUND') });
    expect(classifyTransportError(wrapped)).toMatchObject({ kind: 'retry' });
    expect(errorCodes(wrapped)).toEqual(['ENOTFOUND']);
  });
  it('survives cyclic causes', () => {
    const a = codeError('ECONNRESET') as Error & { cause?: unknown };
    a.cause = a;
    expect(classifyTransportError(a)).toMatchObject({ kind: 'ambiguous' });
  });
  it('redacts and truncates the message', () => {
    const o = classifyTransportError(codeError('ECONNRESET', `reset ${KEY} ${'y'.repeat(3000)}`), { secrets: [KEY] });
    expect(o.kind === 'ambiguous' && o.reason).not.toContain(KEY);
    expect(o.kind === 'ambiguous' && o.reason.length).toBeLessThanOrEqual(MITTO_REASON_MAX_CHARS + 40);
  });
});
