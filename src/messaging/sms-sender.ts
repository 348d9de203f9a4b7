import type { MessageResult } from '../campaigns/campaign-messages.repository.js';
import type { MittoOutgoingMessage } from './mitto.types.js';

/** A message ready to go out (rendered text, E.164 destination). `id` is our id, sent as Mitto `reference`. */
export interface OutgoingSms {
  id: string;
  phone: string;
  text: string;
}

export interface SendContext {
  apiKey: string;
  mittoTrafficAccountId: string;
  sender: string;
  /**
   * Paces every provider request after the batch's first (whose permit the batch already holds):
   * resolves when the rate limiter grants one more request.
   */
  nextPermit(): Promise<void>;
}

export interface SendReport {
  bulkId: string | null;
  /** One result per message: sent / failed / unknown, or queued (not sent; give back for a retry). */
  results: MessageResult[];
  /** Set when Mitto did not take (some of) the messages and they can be sent again later. */
  retry?: { reason: string; retryAfterMs?: number; throttled: boolean };
}

/**
 * How a batch reaches Mitto. Two implementations (bulk: one call per batch; single: one call per
 * message, the legacy flow); `USE_BULK_SMS` picks one in the DI provider and nothing else branches on it.
 */
export interface SmsSender {
  readonly mode: 'bulk' | 'single';
  send(ctx: SendContext, messages: OutgoingSms[]): Promise<SendReport>;
}

export const SMS_SENDER = Symbol('SMS_SENDER');

/** One of our messages as Mitto gets it: our id travels as `reference`. */
export function toMittoMessage(ctx: SendContext, m: OutgoingSms): MittoOutgoingMessage {
  return { reference: m.id, trafficAccountId: ctx.mittoTrafficAccountId, destination: m.phone, text: m.text, sender: ctx.sender };
}
