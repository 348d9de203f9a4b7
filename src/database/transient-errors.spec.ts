import { describe, expect, it } from '@jest/globals';
import { QueryFailedError } from 'typeorm';
import { isTransientDatabaseError } from './transient-errors.js';

const pgError = (code: string, message = 'pg error') => Object.assign(new Error(message), { code });
const wrapped = (driver: Error) => new QueryFailedError('UPDATE x', [], driver);

describe('isTransientDatabaseError', () => {
  it('retries a lost race: deadlock and serialization failure, raw or wrapped by TypeORM', () => {
    expect(isTransientDatabaseError(pgError('40P01'))).toBe(true);
    expect(isTransientDatabaseError(wrapped(pgError('40001')))).toBe(true);
  });

  it('retries an unavailable database: terminated backend, refused or dropped connection', () => {
    expect(isTransientDatabaseError(wrapped(pgError('57P01', 'terminating connection due to administrator command')))).toBe(true);
    expect(isTransientDatabaseError(pgError('ECONNREFUSED'))).toBe(true);
    expect(isTransientDatabaseError(pgError('ENOTCONN'))).toBe(true);
    expect(isTransientDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('does not retry a bug in the statement or its data', () => {
    expect(isTransientDatabaseError(wrapped(pgError('42601', 'syntax error')))).toBe(false);
    expect(isTransientDatabaseError(wrapped(pgError('23505', 'duplicate key value')))).toBe(false);
    expect(isTransientDatabaseError(new Error('boom'))).toBe(false);
    expect(isTransientDatabaseError(undefined)).toBe(false);
  });
});
