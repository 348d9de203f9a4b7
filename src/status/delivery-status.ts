// Pure rules for turning a Mitto delivery status (webhook report or GET /Messages/{id}) into a move of
// one of our messages. No I/O: the SQL in campaigns/delivery-status-updates.repository.ts applies them,
// with the forward-only order of campaigns/message-status-rank.ts.
import type { ReportTarget } from '../campaigns/message-status-rank.js';
import type { DeliveryStatusWrite } from '../campaigns/delivery-status-updates.repository.js';
import { mittoDeliveryBucket } from '../mitto/mitto-message-status.js';
import type { MittoDeliveryBucket, MittoMessageStatus } from '../mitto/mitto.types.js';

/** Mitto bucket → our status. `unknown` (a value we have never seen) is treated as still pending. */
export function targetOf(bucket: MittoDeliveryBucket): ReportTarget {
  switch (bucket) {
    case 'delivered':
      return 'delivered';
    case 'failed':
      return 'undelivered';
    case 'pending':
    case 'unknown':
      return 'sent';
  }
}

/** One status to apply (matched by provider id first, then by our message id), and Mitto's bucket for it. */
export interface StatusUpdate extends DeliveryStatusWrite {
  bucket: MittoDeliveryBucket;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ID = 200;
const MAX_RAW_STATUS = 100;
const MAX_ERROR_MESSAGE = 1000;
const EARLIEST_REPORT_MS = Date.UTC(2000, 0, 1);

export function asMessageId(reference: string | undefined): string | null {
  const ref = reference?.trim();
  return ref && UUID.test(ref) ? ref.toLowerCase() : null;
}

/** ISO-8601; a timestamp without a zone is read as UTC (Mitto's zone is not documented). */
export function parseReportTime(value: string | undefined, nowMs = Date.now()): Date | null {
  if (!value) return null;
  const text = value.trim();
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(zoned)) return null;
  const ms = Date.parse(zoned);
  // A clock far off (or year 0, which PostgreSQL cannot store) would make delivered_at meaningless; keep "now".
  if (Number.isNaN(ms) || ms > nowMs + 24 * 3600_000 || ms < EARLIEST_REPORT_MS) return null;
  return new Date(ms);
}

/** `DELIVERY_` + the raw status in upper snake case (e.g. `Failure` → `DELIVERY_FAILURE`). */
export function deliveryErrorCode(rawStatus: string): string {
  const code = rawStatus.trim().toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 50);
  return `DELIVERY_${code || 'UNKNOWN'}`;
}

/** PostgreSQL text cannot hold U+0000. */
const withoutNul = (text: string): string => text.split('\u0000').join('');

/**
 * Turns a Mitto Message (report or lookup) into the update to apply; `messageId` overrides the
 * reference. Null when it cannot name a message (empty, too long, or a NUL in the id).
 */
export function toStatusUpdate(message: MittoMessageStatus, nowMs = Date.now(), messageId?: string): StatusUpdate | null {
  const providerMessageId = message.messageId.trim();
  if (!providerMessageId || providerMessageId.length > MAX_ID || providerMessageId.includes('\u0000')) return null;
  const rawStatus = withoutNul(message.deliveryStatus).trim().slice(0, MAX_RAW_STATUS);
  if (!rawStatus) return null;
  const bucket = mittoDeliveryBucket(rawStatus);
  const target = targetOf(bucket);
  const failed = target === 'undelivered';
  return {
    providerMessageId,
    messageId: messageId ?? asMessageId(message.reference),
    target,
    bucket,
    rawStatus,
    errorCode: failed ? deliveryErrorCode(rawStatus) : null,
    errorMessage: failed && message.description ? withoutNul(message.description).slice(0, MAX_ERROR_MESSAGE) || null : null,
    reportedAt: target === 'delivered' ? parseReportTime(message.updatedAt, nowMs) : null,
  };
}
