import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'bullmq';
import type { RedisServer } from '../config/app.config.js';
import { settledWithin } from '../common/settled-within.js';

/**
 * Every Redis connection of the process is built here, from `AppConfig.redis.server`: a single Redis
 * (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). Callers only see `RedisClient`; the commands
 * the app uses work on both, because every multi-key operation keeps its keys in one hash slot
 * (BullMQ: queues.module.ts; rate limiter: rate-limiter.service.ts `keysFor`).
 */
export type RedisClient = Redis | Cluster;

/** ioredis options from a redis:// or rediss:// URL. */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * The app's own client (rate limiter, live events, health, reconciliation and refresh cursors).
 * Few retries per command: the limiter has its own 250 ms budget and fails open, the rest is
 * best-effort state that PostgreSQL can rebuild.
 */
export function createAppClient(server: RedisServer): RedisClient {
  const perCommand = { maxRetriesPerRequest: 2 };
  if (server.kind === 'cluster') {
    return new Cluster(server.nodes, { redisOptions: perCommand, enableOfflineQueue: true });
  }
  return new Redis({ ...redisOptionsFromUrl(server.url), ...perCommand, enableOfflineQueue: true, lazyConnect: false });
}

/**
 * What BullMQ connects with. A single Redis: options (BullMQ opens, and closes, its own connections, as
 * it always did). A cluster: one Cluster client, because BullMQ only takes a cluster as an instance;
 * its Queues share it, each Worker duplicates it for its blocking connection. BullMQ requires
 * `maxRetriesPerRequest: null` on any client a Worker duplicates. The caller closes the instance.
 */
export function createBullConnection(server: RedisServer): ConnectionOptions {
  if (server.kind === 'cluster') {
    return new Cluster(server.nodes, { redisOptions: { maxRetriesPerRequest: null } });
  }
  return { url: server.url };
}

/**
 * Readiness: a single Redis answers PING; a cluster answers PING on every master the client knows,
 * and reports `cluster_state:ok` (every slot served), since a cluster with one master down still
 * answers on the others but fails every key in that master's slots.
 */
export async function checkRedis(client: RedisClient): Promise<void> {
  if (client instanceof Cluster) {
    const masters = client.nodes('master');
    if (masters.length === 0) throw new Error('no cluster master reachable');
    const pongs = await Promise.all(masters.map((node) => node.ping()));
    if (pongs.some((p) => p !== 'PONG')) throw new Error('unexpected reply to PING');
    const info = await masters[0].cluster('INFO');
    if (!/^cluster_state:ok\s*$/m.test(String(info))) throw new Error('cluster_state is not ok');
    return;
  }
  if ((await client.ping()) !== 'PONG') throw new Error('unexpected reply to PING');
}

/** A second connection like `client` (same server or cluster, same options), e.g. for SUBSCRIBE. */
export function duplicateClient(client: RedisClient): RedisClient {
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}

/** How long QUIT may take at shutdown before the connection is dropped. */
const QUIT_WITHIN_MS = 2_000;

/**
 * Closes a client: QUIT (pending replies first), or a hard disconnect if that fails or takes longer than
 * QUIT_WITHIN_MS. (A cluster client whose master was just replaced may never answer QUIT, which would
 * hold the shutdown forever.)
 */
export async function closeRedis(client: unknown): Promise<void> {
  if (!(client instanceof Redis) && !(client instanceof Cluster)) return;
  if ((await settledWithin(client.quit(), QUIT_WITHIN_MS)) !== 'fulfilled') client.disconnect();
}
