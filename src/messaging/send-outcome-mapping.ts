import type { MessageOutcome } from '../campaigns/campaign-batches.repository.js';
import type { MittoSendOutcome } from '../mitto/mitto.types.js';
import type { CallReport, OutgoingSms } from './sms-sender.js';

/**
 * Maps one Mitto call's outcome onto the messages it carried. Pure; shared by both senders.
 * accepted → each item sent (with its provider id) or failed (per-item rejection);
 * retry → no outcome (the messages stay queued); rejected → failed; ambiguous → unknown (never resent blindly).
 */
export function mapOutcome(messages: readonly OutgoingSms[], outcome: MittoSendOutcome): CallReport {
  switch (outcome.kind) {
    case 'accepted':
      return {
        bulkId: outcome.bulkId ?? null,
        outcomes: messages.map((m, i): MessageOutcome => {
          const item = outcome.items[i];
          return item.status === 'accepted'
            ? { seq: m.seq, status: 'sent', providerMessageId: item.providerMessageId }
            : { seq: m.seq, status: 'failed', errorCode: `MITTO_${item.errorCode}`, errorMessage: item.errorMessage };
        }),
      };
    case 'retry':
      return {
        bulkId: null,
        outcomes: [],
        retry: { reason: outcome.reason, retryAfterMs: outcome.retryAfterMs, throttled: outcome.httpStatus === 429 },
      };
    case 'rejected':
      return {
        bulkId: null,
        outcomes: messages.map((m) => ({ seq: m.seq, status: 'failed', errorCode: `MITTO_${outcome.errorCode}`, errorMessage: outcome.reason })),
      };
    case 'ambiguous':
      return {
        bulkId: null,
        outcomes: messages.map((m) => ({ seq: m.seq, status: 'unknown', errorCode: 'AMBIGUOUS', errorMessage: outcome.reason })),
      };
  }
}
