/**
 * What a batch job's run gives back to its processor (workers/sms-batch.processor.ts): the count of its
 * messages, or one of these errors, which say how the job comes back.
 */

/** The job must come back after `waitMs` without using a retry attempt (rate limit, busy lease, progress). */
export class BatchDeferred extends Error {
  constructor(readonly waitMs: number, readonly reason: string) {
    super(`batch deferred (${reason}) for ${waitMs} ms`);
  }
}

/** Mitto did not take a call and the batch made no progress: retry with backoff, costs an attempt. */
export class BatchRetryable extends Error {}

export interface BatchAttempt {
  attempt: number;
  /** True on the last attempt BullMQ will make: a "try later" answer then fails that call's messages. */
  isLastAttempt: boolean;
}

export interface BatchRun {
  messages: number;
  sent: number;
}
