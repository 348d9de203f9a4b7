import type { MessageResult } from '../campaigns/campaign-messages.repository.js';
import type { MittoSendOutcome } from './mitto.types.js';
import type { OutgoingSms, SendReport } from './sms-sender.js';

/**
 * Maps one Mitto call's outcome onto the messages it carried. Pure; shared by both senders.
 * accepted → each item sent (with its provider id) or failed (per-item rejection);
 * retry → given back as queued; rejected → failed; ambiguous → unknown (never resent blindly).
 */
export function mapOutcome(messages: OutgoingSms[], outcome: MittoSendOutcome): SendReport {
  switch (outcome.kind) {
    case 'accepted':
      return {
        bulkId: outcome.bulkId ?? null,
        results: messages.map((m, i): MessageResult => {
          const item = outcome.items[i];
          return item.status === 'accepted'
            ? { id: m.id, status: 'sent', providerMessageId: item.providerMessageId }
            : { id: m.id, status: 'failed', errorCode: `MITTO_${item.errorCode}`, errorMessage: item.errorMessage };
        }),
      };
    case 'retry':
      return {
        bulkId: null,
        results: messages.map((m) => ({ id: m.id, status: 'queued', errorCode: 'MITTO_RETRY', errorMessage: outcome.reason })),
        retry: { reason: outcome.reason, retryAfterMs: outcome.retryAfterMs, throttled: outcome.httpStatus === 429 },
      };
    case 'rejected':
      return {
        bulkId: null,
        results: messages.map((m) => ({
          id: m.id,
          status: 'failed',
          errorCode: `MITTO_${outcome.errorCode}`,
          errorMessage: outcome.reason,
        })),
      };
    case 'ambiguous':
      return {
        bulkId: null,
        results: messages.map((m) => ({ id: m.id, status: 'unknown', errorCode: 'AMBIGUOUS', errorMessage: outcome.reason })),
      };
  }
}
