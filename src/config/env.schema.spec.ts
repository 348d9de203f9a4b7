import { describe, expect, it } from '@jest/globals';
import { buildConfig } from './app.config.js';

describe('environment validation', () => {
  it('starts with no variables at all, on the seed defaults', () => {
    const c = buildConfig({});
    expect(c.sending).toMatchObject({ useBulk: false, batchSize: 200, workerConcurrency: 5, retries: 5, backoffMs: 3000 });
    expect(c.rateLimits).toEqual({
      trafficAccount: { max: 100, windowMs: 1000 },
      tenant: { max: 50, windowMs: 1000 },
      queue: { max: 50, durationMs: 1000 },
    });
    expect(c.role).toBe('all');
  });

  it('parses numbers and booleans from strings', () => {
    const c = buildConfig({ SMS_BATCH_SIZE: '50', USE_BULK_SMS: 'true', APP_ROLE: 'worker' });
    expect(c.sending.batchSize).toBe(50);
    expect(c.sending.useBulk).toBe(true);
    expect(c.role).toBe('worker');
  });

  it.each([
    ['SMS_BATCH_SIZE', 'abc'],
    ['SMS_BATCH_SIZE', '0'],
    ['USE_BULK_SMS', 'yes please'],
    ['APP_ROLE', 'both'],
    ['DATABASE_URL', 'mysql://x'],
    ['ADMIN_API_KEY', 'short'],
    ['DEFAULT_PHONE_REGION', 'switzerland'],
    ['PHONE_VALIDATION', 'fastest'],
    ['UNKNOWN_POLICY', 'maybe'],
    ['API_RATE_LIMIT', '0'],
    ['API_RATE_LIMIT_WINDOW_MS', '1500'],
    ['CORS_ORIGINS', 'https://dash.example.com/app'],
    ['CORS_ORIGINS', '*'],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '10'],
    ['REDIS_CLUSTER_NODES', 'redis-1'],
    ['REDIS_CLUSTER_NODES', 'redis-1:6379,redis-2'],
    ['REDIS_CLUSTER_NODES', 'redis-1:70000'],
    ['REDIS_CLUSTER_NODES', 'redis://redis-1:6379'],
    ['REDIS_CLUSTER_NODES', 'redis-1:6379,,redis-2:6379'],
    ['QUEUE_PREFIX', '{bulk}'],
    ['MESSAGE_RETENTION_DAYS', '-1'],
    ['MESSAGE_RETENTION_DAYS', '30d'],
    ['MESSAGE_PURGE_CHUNK_ROWS', '0'],
    ['MESSAGE_PURGE_ROWS_PER_RUN', '0'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => buildConfig({ [name]: value })).toThrow(new RegExp(`${name}=`));
  });

  it('keeps messages 90 days after a campaign ended by default; 0 keeps them forever', () => {
    expect(buildConfig({}).retention).toEqual({ retentionDays: 90, chunkRows: 2_000, rowsPerRun: 20_000 });
    expect(buildConfig({ MESSAGE_RETENTION_DAYS: '0' }).retention.retentionDays).toBe(0);
  });

  it('uses REDIS_URL unless REDIS_CLUSTER_NODES names a cluster', () => {
    expect(buildConfig({ REDIS_URL: 'redis://r:6380' }).redis.server).toEqual({ kind: 'single', url: 'redis://r:6380' });
    expect(buildConfig({ REDIS_URL: 'redis://r:6380', REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002' }).redis.server).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'redis-1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
  });

  it('lists every bad variable at once', () => {
    expect(() => buildConfig({ PORT: 'x', QUEUE_ATTEMPTS: '-1' })).toThrow(/PORT=[\s\S]*QUEUE_ATTEMPTS=|QUEUE_ATTEMPTS=[\s\S]*PORT=/);
  });

  it('API protection defaults: a limit a dashboard never reaches, no CORS, keep-alive beyond a balancer\'s 60 s', () => {
    const c = buildConfig({});
    expect(c.apiRateLimit).toEqual({ max: 600, windowMs: 10_000 });
    expect(c.http.corsOrigins).toEqual([]);
    expect(c.http.keepAliveTimeoutMs).toBeGreaterThan(60_000);
    expect(c.http.trustProxy).toBe('loopback, linklocal, uniquelocal');
  });

  it('reads CORS_ORIGINS as a comma-separated list and TRUST_PROXY as Express expects it', () => {
    const c = buildConfig({ CORS_ORIGINS: ' https://dash.example.com, http://localhost:5173 ', TRUST_PROXY: '2' });
    expect(c.http.corsOrigins).toEqual(['https://dash.example.com', 'http://localhost:5173']);
    expect(c.http.trustProxy).toBe(2);
    expect(buildConfig({ TRUST_PROXY: 'false' }).http.trustProxy).toBe(false);
  });
});
