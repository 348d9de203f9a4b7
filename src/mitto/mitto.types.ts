// Types and wire constants for the Mitto Messaging API.
//
// Every assumption about Mitto (paths, header names, request and response shapes, status values) lives in
// src/mitto/: this file, mitto-send-outcome.ts and mitto-message-status.ts (how answers are read and
// classified, with mitto-response.ts) and mitto.client.ts (how requests are made). Source of truth:
// docs/MITTO_API.md (section names are quoted below). When that doc changes, these files are the only
// places to correct.

/** Nest injection token for {@link MittoClientOptions}. */
export const MITTO_CLIENT_OPTIONS = Symbol('MITTO_CLIENT_OPTIONS');

export interface MittoClientOptions {
  /** e.g. `https://messaging.mittoapi.com` (doc: intro). A path prefix, if any, is kept in front of every path. */
  baseUrl: string;
  /** TCP + TLS connect timeout. A connect timeout is always safe to retry: nothing was sent. */
  connectTimeoutMs: number;
  /** Deadline for one whole call: waiting for a free connection, connect, write, headers and body. */
  requestTimeoutMs: number;
  /** Max concurrent keep-alive connections to the Mitto origin. */
  maxConnections: number;
}

// ---------------------------------------------------------------------------------------------------------
// Wire constants (doc: "Authentication", "Send one message", "Send many messages", "Message status")
// ---------------------------------------------------------------------------------------------------------

/** Doc "Authentication" (confirmed). Never log or echo its value. */
export const MITTO_API_KEY_HEADER = 'X-Mitto-API-Key';
/** Doc "Send one message": third-party path. */
export const MITTO_SEND_ONE_PATH = '/api/v1.1/Messages/send';
/** Doc "Send many messages in one call": third-party path. */
export const MITTO_SEND_BULK_PATH = '/api/v1.1/Messages/sendmessagesbulk';
/** Doc "Message status": third-party path; `{id}` is URL-encoded. */
export const mittoMessagePath = (providerMessageId: string): string =>
  `/api/v1.1/Messages/${encodeURIComponent(providerMessageId)}`;

/** Raw error bodies / transport error messages kept in `reason` are cut to this many characters. */
export const MITTO_REASON_MAX_CHARS = 500;
/**
 * Response bodies larger than this are drained but not kept (a 2xx beyond it is unparseable → ambiguous).
 * A 200-message bulk answer is about 20 kB; 4 MiB leaves ample room.
 */
export const MITTO_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------
// What the rest of the application sees
// ---------------------------------------------------------------------------------------------------------

export interface MittoOutgoingMessage {
  /** Our message id; sent as Mitto `reference` (doc: assumed, ≤ 100 chars, echoed in delivery reports). */
  reference: string;
  /**
   * Mitto's UUID of the traffic account the API key belongs to (doc "Authentication"; `trafficAccountId` on the
   * wire). Not our `traffic_accounts.id`, which is what `trafficAccountId` means everywhere else in this code.
   */
  mittoTrafficAccountId: string;
  /** E.164, e.g. `+41791234567`. */
  destination: string;
  text: string;
  /** Alphanumeric 1–11 characters or numeric 1–16 digits (doc "Send one message", confirmed). */
  sender: string;
}

export interface MittoAcceptedItem {
  status: 'accepted';
  providerMessageId: string;
}

export interface MittoRejectedItem {
  status: 'rejected';
  errorCode: string;
  errorMessage: string;
}

export type MittoSendItemResult = MittoAcceptedItem | MittoRejectedItem;

/**
 * Outcome of one send call. Never thrown; every failure is one of these.
 *
 * - `accepted`: Mitto answered 2xx with exactly one item per request message; `items[i]` answers message `i`.
 * - `retry`: Mitto did NOT take the messages; safe to resend (honour `retryAfterMs` when present).
 * - `rejected`: Mitto refused the whole call; do not resend (a resend would be refused again).
 *   `httpStatus` is 0 when the call was refused locally before any HTTP exchange (e.g. an API key that is not
 *   a valid header value).
 * - `ambiguous`: the messages may or may not have been sent. There is no idempotency key (doc "Errors,
 *   limits, idempotency"): resending may send every SMS twice. Resolve by delivery reports / `reference`.
 */
export type MittoSendOutcome =
  | { kind: 'accepted'; bulkId?: string; items: MittoSendItemResult[] }
  | { kind: 'retry'; reason: string; httpStatus?: number; retryAfterMs?: number }
  | { kind: 'rejected'; reason: string; httpStatus: number; errorCode: string }
  | { kind: 'ambiguous'; reason: string; httpStatus?: number };

/**
 * The Message model (doc "Message status": confirmed fields). Also the payload of a delivery report
 * (doc "Delivery reports", assumed). Only `messageId` and `deliveryStatus` are required; other fields are
 * kept when present with the expected type and dropped otherwise.
 */
export interface MittoMessageStatus {
  messageId: string;
  /** Raw Mitto value, e.g. `Sent`, `Delivered`, `Failure`; see {@link MittoDeliveryBucket}. */
  deliveryStatus: string;
  description?: string;
  reference?: string;
  /** Mitto's traffic account id (`trafficAccountId` on the wire). */
  mittoTrafficAccountId?: string;
  text?: string;
  messageParts?: number;
  createdAt?: string;
  updatedAt?: string;
}

export type MittoMessageLookup =
  | { kind: 'found'; message: MittoMessageStatus }
  | { kind: 'not-found' }
  | { kind: 'error'; retryable: boolean; reason: string; retryAfterMs?: number };

/**
 * Where a raw `deliveryStatus` falls (doc "Message status": `Sent`, `Delivered`, `Failure` seen in
 * third-party code; `Undelivered`, `Expired`, `Rejected`, `Pending` assumed).
 * - `pending`: not final yet (`Sent`, `Pending`).
 * - `delivered`: final, handset confirmed (`Delivered`).
 * - `failed`: final, not delivered (`Failure`, `Undelivered`, `Expired`, `Rejected`).
 * - `unknown`: any other value; treat as NOT final (keep waiting / polling) and log it, never crash.
 */
export type MittoDeliveryBucket = 'pending' | 'delivered' | 'failed' | 'unknown';

// ---------------------------------------------------------------------------------------------------------
// Wire shapes (what goes over HTTP). Only mitto.client.ts and mitto-send-outcome.ts use these.
// ---------------------------------------------------------------------------------------------------------

/** One message in a send body (doc "Send one message" / "Send many messages"; `reference` assumed). */
export interface MittoWireSendItem {
  trafficAccountId: string;
  destination: string;
  sms: { text: string; sender: string };
  reference: string;
}

/** Body of `POST sendmessagesbulk`. The single send body is one {@link MittoWireSendItem}. */
export interface MittoWireBulkRequest {
  messages: MittoWireSendItem[];
}

/**
 * One item of a send response (doc: third-party shape `{ messageId, trafficAccountId }`; per-item rejection
 * without `messageId` and with `error` or `errorCode`/`errorMessage` is assumed). Everything is `unknown`
 * because it comes from the network.
 */
export interface MittoWireSendResponseItem {
  messageId?: unknown;
  trafficAccountId?: unknown;
  reference?: unknown;
  error?: unknown;
  errorCode?: unknown;
  errorMessage?: unknown;
}

/** Send response (doc: `{ bulkId?, messages: [...] }`, same shape for single and bulk). */
export interface MittoWireSendResponse {
  bulkId?: unknown;
  messages?: unknown;
}

export function toWireSendItem(message: MittoOutgoingMessage): MittoWireSendItem {
  return {
    trafficAccountId: message.mittoTrafficAccountId,
    destination: message.destination,
    sms: { text: message.text, sender: message.sender },
    reference: message.reference,
  };
}
