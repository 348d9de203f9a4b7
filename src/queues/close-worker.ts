import type { Logger } from '@nestjs/common';
import type { Worker } from 'bullmq';
import { settledWithin } from '../common/settled-within.js';

/**
 * Closes a BullMQ worker without letting the shutdown hang. Closing starts at once (the worker takes no
 * new job); `until` (e.g. the batches in flight finishing) is awaited first, then the close gets at most
 * `graceMs` more. BullMQ waits for its blocking connection's 'end' event, which a Redis Cluster client
 * whose master was just replaced may never emit. Everything a worker leaves behind is safe to leave:
 * batch leases run out, jobs come back through the stalled check or the recovery sweep.
 */
export async function closeWorker(worker: Worker, logger: Logger, opts: { until?: Promise<unknown>; graceMs: number }): Promise<void> {
  const closing = worker.close();
  closing.catch(() => undefined); // settledWithin looks at it only after `until`
  if (opts.until) await opts.until;
  if ((await settledWithin(closing, opts.graceMs)) === 'timeout') {
    logger.warn({ queue: worker.name, waitedMs: opts.graceMs }, 'queue worker did not close in time; shutting down without it');
  }
}
