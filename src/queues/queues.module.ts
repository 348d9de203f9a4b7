import { Global, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { QUEUES } from './queue-names.js';
import { BatchQueue } from './batch.queue.js';
import { CampaignControlQueue } from './campaign-control.queue.js';

/**
 * BullMQ key prefix of one queue: `{<QUEUE_PREFIX>:<queue>}`. BullMQ's scripts touch many keys of a
 * queue at once, which a Redis Cluster allows only within one hash slot; the braces make the whole
 * prefix the hash tag, so all of a queue's keys share a slot, and each queue (and each deployment
 * prefix) gets its own slot, spreading the queues over the cluster's nodes instead of piling them on
 * one. On a single Redis the braces are just characters. Workers inherit the prefix from the queue.
 */
export function queueKeyPrefix(queuePrefix: string, queueName: string): string {
  return `{${queuePrefix}:${queueName}}`;
}

const registerQueue = (name: string) => ({
  name,
  inject: [ConfigService],
  useFactory: (config: ConfigService<AppConfig, true>) => ({
    prefix: queueKeyPrefix(config.get('redis', { infer: true }).queuePrefix, name),
  }),
});

/** Registers the queues and the two producers, the only code that adds jobs. */
@Global()
@Module({
  imports: [BullModule.registerQueueAsync(registerQueue(QUEUES.batches), registerQueue(QUEUES.campaigns))],
  providers: [BatchQueue, CampaignControlQueue],
  exports: [BatchQueue, CampaignControlQueue, BullModule],
})
export class QueuesModule {}
