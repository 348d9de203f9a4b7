import { describe, expect, it } from '@jest/globals';
import { QueryFailedError, QueryRunnerAlreadyReleasedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { isDependencyUnavailable } from './dependency-errors.js';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code, severity: 'FATAL' });

describe('isDependencyUnavailable', () => {
  it.each([
    ['a refused connection (PostgreSQL or Redis stopped)', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['pg_terminate_backend (57P01) wrapped by TypeORM', new QueryFailedError('SELECT 1', [], pgError('57P01', 'terminating connection due to administrator command'))],
    ['a connection exception (class 08)', pgError('08006')],
    ['too many connections', pgError('53300')],
    ['node-pg losing its socket mid-query', new Error('Connection terminated unexpectedly')],
    ['node-pg pool timeout', new Error('timeout exceeded when trying to connect')],
    ['a client that errored before', new Error('Client has encountered a connection error and is not queryable')],
    ['ioredis with the link down', new Error('Connection is closed.')],
    ['ioredis giving up', new Error('Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.')],
    ['a cause chain', new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ECONNRESET' }) })],
    ['TypeORM refusing a statement on a runner its dead connection released', new QueryRunnerAlreadyReleasedError()],
    ['… or on its connection', new QueryRunnerProviderAlreadyReleasedError()],
    ['an AggregateError of refused connects', new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], 'all failed')],
  ])('%s → unavailable', (_, error) => {
    expect(isDependencyUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', new QueryFailedError('INSERT', [], pgError('23505', 'duplicate key value violates unique constraint'))],
    ['a syntax error (a bug)', new QueryFailedError('SELEC', [], pgError('42601', 'syntax error'))],
    ['a plain bug', new TypeError('Cannot read properties of undefined')],
    ['not an error at all', 'boom'],
    ['nothing', undefined],
  ])('%s → not a dependency problem', (_, error) => {
    expect(isDependencyUnavailable(error)).toBe(false);
  });
});
