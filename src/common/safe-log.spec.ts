import { describe, expect, it } from '@jest/globals';
import { QueryFailedError } from 'typeorm';
import { safeError, safeRequest, scrubText } from './safe-log.js';

describe('scrubText', () => {
  it.each([
    ['+41791234567', '[number]'],
    ['call 079 123 45 67 now', 'call [number] now'],
    ['(044) 668-1800', '[number]'],
    ['/api/suppressions/+41791234567', '/api/suppressions/[number]'],
    ['Authorization: Bearer sk_abcdefghijklmnop', 'Authorization: Bearer [redacted]'],
    ['key sk_AbCdEf0123456789_-x leaked', 'key [api-key] leaked'],
    [`hash ${'ab12'.repeat(16)}`, 'hash [hash]'],
  ])('%s → %s', (input, expected) => {
    expect(scrubText(input)).toBe(expected);
  });

  it.each([
    '/api/campaigns/0e1d2c3b-4a59-4687-9123-456789012345/status',
    'connect ECONNREFUSED 127.0.0.1:5432',
    'scheduled for 2026-11-30T06:39:05.000Z',
    'batch 1234 of 200 messages',
  ])('keeps %s', (text) => {
    expect(scrubText(text)).toBe(text);
  });
});

describe('safeError', () => {
  const driverError = Object.assign(new Error('duplicate key value violates unique constraint "uq_suppressions"'), {
    code: '23505',
    severity: 'ERROR',
    detail: 'Key (tenant_id, phone)=(7c0…, +41791234567) already exists.',
    constraint: 'uq_suppressions',
    table: 'suppressions',
  });

  it('keeps only the SQLSTATE and names of a database error: no SQL, parameters, message or detail', () => {
    const error = new QueryFailedError('INSERT INTO suppressions (phone, reason) VALUES ($1, $2)', ['+41791234567', 'asked us to stop'], driverError);
    const logged = JSON.stringify(safeError(error));
    expect(safeError(error)).toEqual({ type: 'QueryFailedError', code: '23505', constraint: 'uq_suppressions', table: 'suppressions' });
    expect(logged).not.toMatch(/41791234567|asked us|INSERT|VALUES/);
  });

  it('treats a raw driver error the same way', () => {
    expect(JSON.stringify(safeError(driverError))).not.toMatch(/41791234567|duplicate key/);
  });

  it('keeps type, message and stack of other errors, scrubbed', () => {
    const logged = safeError(new Error('could not send to +41791234567')) as { type: string; message: string; stack: string };
    expect(logged.type).toBe('Error');
    expect(logged.message).toBe('could not send to [number]');
    expect(logged.stack).toMatch(/^Error: could not send to \[number\]\n\s+at /);
  });

  it('scrubs a bare message string', () => {
    expect(safeError('bad number +41 79 123 45 67')).toBe('bad number [number]');
  });
});

describe('safeRequest', () => {
  it('logs method and scrubbed path only, never headers', () => {
    const logged = safeRequest({
      id: 'r1',
      method: 'DELETE',
      url: '/api/suppressions/%2B41791234567',
      headers: { authorization: 'Bearer sk_secretsecretsecret', 'x-admin-api-key': 'admin-key-0123456789' },
    } as never);
    expect(logged).toEqual({ id: 'r1', method: 'DELETE', url: '/api/suppressions/[number]' });
  });
});
