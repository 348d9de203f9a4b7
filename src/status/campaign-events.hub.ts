import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { InjectRedis } from '../redis/redis.module.js';
import { closeRedis, duplicateClient, type RedisClient } from '../redis/redis-clients.js';
import { CAMPAIGN_EVENTS_CHANNEL } from '../events/campaign-events.js';

type Listener = () => void;

/** How long a new listener waits for the subscription to be confirmed before going on without it. */
const SUBSCRIBE_WAIT_MS = 2_000;

/**
 * The process's ONE Redis subscriber to campaign-change announcements, fanned out to local
 * listeners (SSE streams) by campaign id. Created on first use, so worker-only processes never open
 * it. After a reconnect every listener is poked, since announcements made meanwhile were lost.
 * On a Redis Cluster this is classic (not sharded) pub/sub: ioredis subscribes on one node and a
 * PUBLISH on any node reaches every node, so publishers and subscribers need not meet on one node.
 */
@Injectable()
export class CampaignEventsHub implements OnModuleDestroy {
  private readonly logger = new Logger(CampaignEventsHub.name);
  private readonly listeners = new Map<string, Set<Listener>>();
  private subscriber?: RedisClient;
  private subscribed?: Promise<void>;

  constructor(@InjectRedis() private readonly redis: RedisClient) {}

  /** Calls `listener` on every announcement for `campaignId`; resolves once subscribed (or after a short wait). */
  async listen(campaignId: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(campaignId);
    if (!set) this.listeners.set(campaignId, (set = new Set()));
    set.add(listener);
    const unsubscribe = () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(campaignId) === set) this.listeners.delete(campaignId);
    };
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ensureSubscribed(), new Promise((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS)))]);
    clearTimeout(timer);
    return unsubscribe;
  }

  get listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  async onModuleDestroy(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) await closeRedis(sub);
  }

  private ensureSubscribed(): Promise<void> {
    if (this.subscribed) return this.subscribed;
    const sub = duplicateClient(this.redis);
    this.subscriber = sub;
    let connectedOnce = false;
    sub.on('message', (_channel: string, campaignId: string) => this.notify(this.listeners.get(campaignId)));
    sub.on('ready', () => {
      if (connectedOnce) for (const set of this.listeners.values()) this.notify(set);
      connectedOnce = true;
    });
    sub.on('error', (e: Error) => this.logger.warn({ err: e }, 'campaign events subscriber error'));
    this.subscribed = sub.subscribe(CAMPAIGN_EVENTS_CHANNEL).then(
      () => undefined,
      (e: unknown) => {
        this.logger.warn({ err: e }, 'could not subscribe to campaign events; streams fall back to polling');
        sub.disconnect();
        if (this.subscriber === sub) this.subscriber = undefined;
        this.subscribed = undefined;
      },
    );
    return this.subscribed;
  }

  private notify(set: Set<Listener> | undefined): void {
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener();
      } catch (e) {
        this.logger.warn({ err: e }, 'campaign event listener failed');
      }
    }
  }
}
