// Reading Mitto's Message model: the answer to `GET /Messages/{id}` (status lookups and reconciliation) and the
// body of a delivery report. Pure; no I/O. Assumptions: docs/MITTO_API.md ("Message status",
// "Delivery reports"), marked where they are used.

import type { MittoDeliveryBucket, MittoMessageLookup, MittoMessageStatus } from './mitto.types.js';
import {
  LOCAL_INVALID_CODES,
  RETRY_4XX,
  describeError,
  errorCodes,
  headerValue,
  isRecord,
  nonEmptyText,
  parseRetryAfter,
  snippet,
  truncate,
  tryParseJson,
  type MittoResponseHeaders,
} from './mitto-response.js';

/**
 * Reads the Message model (doc "Message status"; also the delivery report payload, doc "Delivery reports").
 * `messageId` and `deliveryStatus` must be non-empty strings; optional fields of the wrong type are dropped.
 * Returns null when the value is not a Message.
 */
export function parseMittoMessageStatus(value: unknown): MittoMessageStatus | null {
  if (!isRecord(value)) return null;
  const messageId = nonEmptyText(value['messageId']);
  const deliveryStatus = typeof value['deliveryStatus'] === 'string' ? value['deliveryStatus'].trim() : '';
  if (messageId === undefined || deliveryStatus === '') return null;
  const status: MittoMessageStatus = { messageId, deliveryStatus };
  for (const key of ['description', 'reference', 'text', 'createdAt', 'updatedAt'] as const) {
    const field = value[key];
    if (typeof field === 'string') status[key] = field;
  }
  const account = value['trafficAccountId'];
  if (typeof account === 'string') status.mittoTrafficAccountId = account;
  const parts = value['messageParts'];
  if (typeof parts === 'number' && Number.isInteger(parts) && parts >= 0) status.messageParts = parts;
  return status;
}

/**
 * Delivery report body (doc "Delivery reports", assumed): one Message object or an array of them.
 * Items that are not Messages are counted in `invalid`, never thrown.
 */
export function parseMittoDeliveryReports(value: unknown): { reports: MittoMessageStatus[]; invalid: number } {
  const list = Array.isArray(value) ? value : [value];
  const reports: MittoMessageStatus[] = [];
  let invalid = 0;
  for (const entry of list) {
    const report = parseMittoMessageStatus(entry);
    if (report) reports.push(report);
    else invalid += 1;
  }
  return { reports, invalid };
}

const DELIVERY_BUCKETS: Readonly<Record<string, MittoDeliveryBucket>> = {
  sent: 'pending', // seen (third-party): handed to the operator, not final
  pending: 'pending', // assumed
  delivered: 'delivered', // seen (third-party)
  failure: 'failed', // seen (third-party)
  undelivered: 'failed', // assumed
  expired: 'failed', // assumed
  rejected: 'failed', // assumed
};

/** Maps a raw `deliveryStatus` (case-insensitive) to a bucket; unknown values → 'unknown' (not final). */
export function mittoDeliveryBucket(deliveryStatus: string): MittoDeliveryBucket {
  return DELIVERY_BUCKETS[deliveryStatus.trim().toLowerCase()] ?? 'unknown';
}

/**
 * Classifies the answer to `GET /Messages/{id}`. Reads are idempotent, so "retryable" only asks whether
 * trying again later can give a different answer.
 * - 2xx with a Message whose messageId matches                  → found
 * - 2xx unparseable JSON                                         → error, retryable (truncated by a proxy?)
 * - 2xx JSON that is not a Message, or another message's id      → error, not retryable (our model is wrong)
 * - 404                                                          → not-found (doc, third-party)
 * - 408, 425, 429, every 5xx                                     → error, retryable
 * - other 1xx/3xx/4xx                                            → error, not retryable
 */
export function classifyLookupResponse(
  providerMessageId: string,
  httpStatus: number,
  headers: MittoResponseHeaders,
  bodyText: string,
  options: { nowMs?: number; secrets?: readonly string[] } = {},
): MittoMessageLookup {
  const { secrets } = options;
  const body = () => snippet(bodyText, secrets) || '(empty body)';
  if (httpStatus >= 200 && httpStatus < 300) {
    const parsed = tryParseJson(bodyText);
    if (!parsed.ok) return { kind: 'error', retryable: true, reason: `HTTP ${httpStatus} with an unparseable body: ${body()}` };
    const message = parseMittoMessageStatus(parsed.value);
    if (!message) return { kind: 'error', retryable: false, reason: `HTTP ${httpStatus} with a body that is not a Message: ${body()}` };
    if (message.messageId.toLowerCase() !== providerMessageId.toLowerCase()) {
      return { kind: 'error', retryable: false, reason: `HTTP ${httpStatus} for another message id: ${truncate(message.messageId, 100)}` };
    }
    return { kind: 'found', message };
  }
  if (httpStatus === 404) return { kind: 'not-found' };
  const retryable = RETRY_4XX.has(httpStatus) || (httpStatus >= 500 && httpStatus <= 599);
  const result: MittoMessageLookup = { kind: 'error', retryable, reason: `HTTP ${httpStatus}: ${body()}` };
  if (retryable) {
    const wait = parseRetryAfter(headerValue(headers, 'retry-after'), options.nowMs ?? Date.now());
    if (wait !== undefined) return { ...result, retryAfterMs: wait };
  }
  return result;
}

/** A GET that failed without an answer: always retryable (a read has no side effect), except local bugs. */
export function classifyLookupTransportError(error: unknown, context: { secrets?: readonly string[] } = {}): MittoMessageLookup {
  const codes = errorCodes(error);
  return {
    kind: 'error',
    retryable: !codes.some((c) => LOCAL_INVALID_CODES.has(c)),
    reason: describeError(error, context.secrets),
  };
}
