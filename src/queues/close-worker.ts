import type { Logger } from '@nestjs/common';
import type { Worker } from 'bullmq';

/**
 * Closes a BullMQ worker, waiting at most `ms`. BullMQ waits for its blocking connection's 'end' event,
 * which a Redis Cluster client whose master was just replaced may never emit; the shutdown must not hang
 * on it. Everything a worker leaves behind is safe to leave: batch leases run out, jobs come back through
 * the stalled check or the recovery sweep.
 */
export async function closeWorkerWithin(worker: Worker, ms: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const result = await Promise.race([worker.close().then(() => 'closed' as const), gaveUp]);
  clearTimeout(timer);
  if (result === 'timeout') logger.warn({ queue: worker.name, waitedMs: ms }, 'queue worker did not close in time; shutting down without it');
}
