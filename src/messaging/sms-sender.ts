import type { SendMode } from '../campaigns/campaign-batch.entity.js';
import type { MessageOutcome } from '../campaigns/campaign-batches.repository.js';
import type { MittoOutgoingMessage } from '../mitto/mitto.types.js';
import type { PreparedSend } from '../mitto/mitto.client.js';

/** A message ready to go out (rendered text, E.164 destination). `id` is our id, sent as Mitto `reference`. */
export interface OutgoingSms {
  id: string;
  seq: number;
  phone: string;
  text: string;
}

export interface SendContext {
  apiKey: string;
  mittoTrafficAccountId: string;
  sender: string;
}

/** What one Mitto call did to the messages it carried. */
export interface CallReport {
  bulkId: string | null;
  /** One outcome per message of the call (sent, failed, unknown) — or none when Mitto did not take the call. */
  outcomes: MessageOutcome[];
  /** Set when Mitto did not take the call: its messages stay queued and can be sent again later. */
  retry?: { reason: string; retryAfterMs?: number; throttled: boolean };
}

/** One Mitto call of a batch, prepared (body serialised) before its write-ahead marker is written. */
export interface PreparedCall {
  readonly messages: readonly OutgoingSms[];
  readonly request: PreparedSend;
}

/**
 * How a batch reaches Mitto. Two implementations — bulk: the whole batch in one call; single: one call
 * per message (the legacy flow) — that differ only in how messages are grouped into calls and which
 * endpoint takes them. The batch service owns the loop around each call (permit, marker, results), so
 * the guarantees are the same in both flows.
 */
export interface SmsSender {
  readonly mode: SendMode;
  prepare(ctx: SendContext, messages: readonly OutgoingSms[]): PreparedCall[];
  send(call: PreparedCall): Promise<CallReport>;
}

/** One of our messages as Mitto gets it: our id travels as `reference`. */
export function toMittoMessage(ctx: SendContext, m: OutgoingSms): MittoOutgoingMessage {
  return { reference: m.id, mittoTrafficAccountId: ctx.mittoTrafficAccountId, destination: m.phone, text: m.text, sender: ctx.sender };
}
