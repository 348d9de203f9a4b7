// Pure classification of Mitto answers and transport failures. No I/O, no clock unless passed in.
//
// Assumptions about Mitto are taken from /work/shared/docs/mitto-api.md ("Send many messages",
// "Message status", "Errors, limits, idempotency"); each is marked where it is used. The central rule of
// that doc: there is no idempotency key, so anything that MAY have reached Mitto is `ambiguous`, never
// `retry`. Only failures that provably happened before the request left us, or answers in which Mitto says
// it did not take the request, are `retry`.
//
// Send classification table (HTTP):
//   2xx, JSON `{ messages: [...] }` with one item per request message  → accepted (items may be rejected)
//   2xx, unparseable / wrong shape / length mismatch / order mismatch  → ambiguous
//   408, 425, 429                                                       → retry (+ Retry-After)
//   other 1xx/3xx/4xx (400, 401, 403, 404, 409, 422, …)                → rejected
//   500, 503 and every other 5xx not listed below (501, 505, 507, …)   → retry (+ Retry-After)
//   502, 504 and gateway timeouts 520, 522, 524, 598, 599               → ambiguous
//   anything outside 100..599                                           → ambiguous
// Transport errors: see classifyTransportError.

import {
  MITTO_REASON_MAX_CHARS,
  type MittoDeliveryBucket,
  type MittoMessageLookup,
  type MittoMessageStatus,
  type MittoRejectedItem,
  type MittoSendItemResult,
  type MittoSendOutcome,
  type MittoWireSendResponse,
  type MittoWireSendResponseItem,
} from './mitto.types.js';

/** Response headers as undici gives them (lower-case names); lookups here are case-insensitive anyway. */
export type MittoResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

/** Cuts `text` to at most `max` characters (an ellipsis marks the cut), never splitting a surrogate pair. */
export function truncate(text: string, max: number = MITTO_REASON_MAX_CHARS): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** Replaces every occurrence of each non-empty secret (the API key) by `[REDACTED]`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('[REDACTED]');
  }
  return out;
}

/** Redact first, then truncate: truncating first could leave a prefix of the key behind. */
function snippet(text: string, secrets: readonly string[] | undefined): string {
  return truncate(redact(text, secrets).trim());
}

function headerValue(headers: MittoResponseHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string, or a finite number rendered as a string; anything else is undefined. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function nonEmptyText(value: unknown): string | undefined {
  const text = asText(value);
  return text !== undefined && text.trim().length > 0 ? text : undefined;
}

function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Retry-After (RFC 9110 §10.2.3): delta-seconds or HTTP-date
// ---------------------------------------------------------------------------------------------------------

/**
 * Milliseconds to wait, or undefined when absent or unparseable. A date in the past gives 0.
 * Delta-seconds must be plain digits ("1.5", "-1" are rejected). HTTP-dates must start with a day name
 * (IMF-fixdate, RFC 850 and asctime all do), so that lenient `Date.parse` cannot read "12" as a date.
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, nowMs: number): number | undefined {
  const raw = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) {
    const seconds = Number(raw);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
  }
  if (!/^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s/i.test(raw)) return undefined;
  // asctime ("Sun Nov  6 08:49:37 1994") carries no zone; HTTP-dates are always GMT.
  const at = Date.parse(/(gmt|utc|[+-]\d{4})$/i.test(raw) ? raw : `${raw} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

// ---------------------------------------------------------------------------------------------------------
// Send: HTTP answers
// ---------------------------------------------------------------------------------------------------------

export interface ClassifyResponseOptions {
  /** Clock for Retry-After HTTP-dates (default `Date.now()`). */
  nowMs?: number;
  /**
   * The `reference` of each request message, in order. When an answer item echoes a `reference` that differs
   * from the one at the same index, Mitto did not keep the order the doc assumes → ambiguous.
   */
  references?: readonly string[];
  /** Strings (the API key) to scrub from every reason. */
  secrets?: readonly string[];
}

/** Retry: Mitto says it did not take the request (408 Request Timeout and 425 Too Early say so as well). */
const RETRY_4XX = new Set([408, 425, 429]);
/**
 * Ambiguous 5xx: a gateway in front of Mitto answered after forwarding (or while forwarding) our request,
 * so Mitto may have processed it. 502/504 are standard; 520/522/524 are Cloudflare's "origin returned
 * garbage / did not answer in time", 598/599 are proxies' network read/connect timeouts. Every other 5xx
 * (500, 501, 503, 505, 507, 521, 523, …) is an answer from a server that reports it did not complete the
 * request → retry (500 counted as "not accepted" per the brief; doc "Errors" has no shape for it).
 */
const AMBIGUOUS_5XX = new Set([502, 504, 520, 522, 524, 598, 599]);

/**
 * Classifies one answer to a send call (bulk or single; single = requestCount 1).
 * `bodyText` is the whole response body as text ('' when empty).
 */
export function classifyHttpResponse(
  requestCount: number,
  httpStatus: number,
  headers: MittoResponseHeaders,
  bodyText: string,
  options: ClassifyResponseOptions = {},
): MittoSendOutcome {
  const { secrets } = options;
  const body = () => snippet(bodyText, secrets) || '(empty body)';

  if (!Number.isInteger(httpStatus) || httpStatus < 100 || httpStatus > 599) {
    return { kind: 'ambiguous', httpStatus, reason: `unexpected HTTP status ${httpStatus}: ${body()}` };
  }
  if (httpStatus >= 200 && httpStatus < 300) {
    return classifySuccessBody(requestCount, httpStatus, bodyText, options);
  }
  const retryAfterMs = () => parseRetryAfter(headerValue(headers, 'retry-after'), options.nowMs ?? Date.now());
  if (RETRY_4XX.has(httpStatus) || (httpStatus >= 500 && !AMBIGUOUS_5XX.has(httpStatus))) {
    const wait = retryAfterMs();
    return {
      kind: 'retry',
      httpStatus,
      reason: `HTTP ${httpStatus}: ${body()}`,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    };
  }
  if (httpStatus >= 500) {
    return { kind: 'ambiguous', httpStatus, reason: `HTTP ${httpStatus} from a gateway: ${body()}` };
  }
  // 1xx that reached us (undici swallows them normally), 3xx (redirects are not followed: a wrong base URL),
  // and 4xx except the retry ones: Mitto refused the call; a resend would be refused again.
  return { kind: 'rejected', httpStatus, errorCode: errorCodeOf(bodyText, httpStatus), reason: `HTTP ${httpStatus}: ${body()}` };
}

/**
 * Error body shape is undocumented (doc "Errors": third-party code reads `message` or `error`). We take a
 * code from `errorCode`, `code`, or `error.code` when present, else `HTTP_<status>`.
 */
function errorCodeOf(bodyText: string, httpStatus: number): string {
  const parsed = tryParseJson(bodyText);
  if (parsed.ok && isRecord(parsed.value)) {
    const v = parsed.value;
    const code =
      nonEmptyText(v['errorCode']) ?? nonEmptyText(v['code']) ?? (isRecord(v['error']) ? nonEmptyText(v['error']['code']) : undefined);
    if (code !== undefined) return truncate(code, 100);
  }
  return `HTTP_${httpStatus}`;
}

function classifySuccessBody(
  requestCount: number,
  httpStatus: number,
  bodyText: string,
  options: ClassifyResponseOptions,
): MittoSendOutcome {
  const { secrets, references } = options;
  const ambiguous = (why: string): MittoSendOutcome => ({
    kind: 'ambiguous',
    httpStatus,
    reason: `HTTP ${httpStatus} ${why}: ${snippet(bodyText, secrets) || '(empty body)'}`,
  });

  const parsed = tryParseJson(bodyText);
  if (!parsed.ok) return ambiguous('with an unparseable body');
  if (!isRecord(parsed.value)) return ambiguous('with a body that is not a JSON object');
  const response = parsed.value as MittoWireSendResponse & Record<string, unknown>;

  // Doc "Send one message": `{ messages: [ { messageId, trafficAccountId } ] }` (third-party). Tolerance
  // (assumed): a single send answered with the item itself, `{ messageId, ... }`, is read as one item; for
  // one request message the mapping cannot be wrong.
  let messages: unknown;
  if (Array.isArray(response.messages)) messages = response.messages;
  else if (requestCount === 1 && response.messages === undefined && nonEmptyText(response['messageId']) !== undefined) {
    messages = [response];
  } else {
    return ambiguous('without a `messages` array');
  }
  const list = messages as unknown[];

  // Doc "Send many messages" (assumed): messages[i] answers request item i. Different lengths → unknown map.
  if (list.length !== requestCount) {
    return ambiguous(`with ${list.length} result item(s) for ${requestCount} request message(s)`);
  }

  const items: MittoSendItemResult[] = [];
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    if (!isRecord(entry)) return ambiguous(`with a non-object result item at index ${i}`);
    const item = entry as MittoWireSendResponseItem;

    const echoed = asText(item.reference);
    const expected = references?.[i];
    if (echoed !== undefined && expected !== undefined && echoed !== expected) {
      return ambiguous(`whose item ${i} echoes reference "${truncate(echoed, 100)}" instead of "${truncate(expected, 100)}" (order not kept)`);
    }

    const messageId = nonEmptyText(item.messageId);
    if (messageId !== undefined) {
      // A message id means Mitto holds the message, even if an error field came along: it can be tracked.
      items.push({ status: 'accepted', providerMessageId: messageId });
      continue;
    }
    const rejected = rejectedItem(item, secrets);
    if (rejected === undefined) {
      // Neither an id nor an error: we cannot say whether this message was taken.
      return ambiguous(`whose item ${i} has neither messageId nor error`);
    }
    items.push(rejected);
  }

  const bulkId = nonEmptyText(response.bulkId);
  return { kind: 'accepted', ...(bulkId !== undefined ? { bulkId } : {}), items };
}

/**
 * Doc "Send many messages" (assumed): a rejected item has no `messageId` and carries `error` (string) or
 * `errorCode`/`errorMessage`. Also read: `error` as an object `{ code, message }`.
 */
function rejectedItem(item: MittoWireSendResponseItem, secrets: readonly string[] | undefined): MittoRejectedItem | undefined {
  const errorObject = isRecord(item.error) ? item.error : undefined;
  const errorCode = nonEmptyText(item.errorCode) ?? (errorObject ? nonEmptyText(errorObject['code']) : undefined);
  const errorMessage =
    nonEmptyText(item.errorMessage) ??
    nonEmptyText(item.error) ??
    (errorObject ? (nonEmptyText(errorObject['message']) ?? JSON.stringify(errorObject)) : undefined);
  const hasErrorField = item.error !== undefined && item.error !== null && item.error !== '' && item.error !== false;
  if (errorCode === undefined && errorMessage === undefined && !hasErrorField) return undefined;
  return {
    status: 'rejected',
    errorCode: truncate(errorCode ?? 'MITTO_ITEM_REJECTED', 100),
    errorMessage: snippet(errorMessage ?? errorCode ?? 'rejected by Mitto', secrets),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Send: transport errors
// ---------------------------------------------------------------------------------------------------------

export interface TransportErrorContext {
  /**
   * Whether undici had handed the request to a socket. For a buffered body undici writes headers and body
   * synchronously right after this point, so `false` proves that no byte of the request left the process,
   * and any error is then safe to retry. `undefined` = unknown: decide by error code alone.
   */
  requestStarted?: boolean;
  /** Strings (the API key) to scrub from the reason. */
  secrets?: readonly string[];
}

/**
 * Codes that can only happen before the request is written (connect, DNS, TLS certificate checks, dispatch on
 * a closed pool), whatever the context says.
 */
const NEVER_SENT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT', // connect (TCP/TLS) did not finish in connectTimeoutMs
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EAI_NODATA',
  'UND_ERR_CLOSED', // ClientClosedError: thrown only when dispatching on a closed pool
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);

/**
 * Errors that are our own bugs or bad input (invalid header value, e.g. an API key with a newline): nothing
 * was sent, and resending cannot help → rejected with httpStatus 0.
 */
const LOCAL_INVALID_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'ERR_INVALID_CHAR', 'ERR_INVALID_URL']);

/** Codes found on the error, its `cause` chain and AggregateError members (Node's happy-eyeballs connect). */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (depth > 5 || e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) codes.push(code);
    visit((e as { cause?: unknown }).cause, depth + 1);
    const members = (e as { errors?: unknown }).errors;
    if (Array.isArray(members)) for (const m of members) visit(m, depth + 1);
  };
  visit(error, 0);
  return codes;
}

function describeError(error: unknown, secrets: readonly string[] | undefined): string {
  const codes = errorCodes(error);
  let message: string;
  if (error instanceof AggregateError && !error.message) {
    message = error.errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ') || error.name;
  } else if (error instanceof Error) {
    message = error.message || error.name;
  } else {
    message = String(error);
  }
  const prefix = codes.length > 0 ? `${codes[0]}: ` : '';
  return snippet(`${prefix}${message}`, secrets);
}

/**
 * Classifies a failure without an HTTP answer.
 * - local invalid input (UND_ERR_INVALID_ARG, …)                        → rejected, httpStatus 0
 * - `requestStarted === false`                                           → retry (nothing left the process)
 * - UND_ERR_CONNECT_TIMEOUT, ECONNREFUSED, ENOTFOUND, EAI_*, TLS cert,
 *   UND_ERR_CLOSED                                                       → retry (only possible before writing)
 * - everything else: UND_ERR_HEADERS_TIMEOUT, UND_ERR_BODY_TIMEOUT, UND_ERR_SOCKET, ECONNRESET, EPIPE,
 *   ETIMEDOUT, EHOSTUNREACH, UND_ERR_ABORTED, UND_ERR_DESTROYED, parser errors, our own deadline, unknown
 *                                                                        → ambiguous
 */
export function classifyTransportError(error: unknown, context: TransportErrorContext = {}): MittoSendOutcome {
  const codes = errorCodes(error);
  const reason = describeError(error, context.secrets);
  if (codes.some((c) => LOCAL_INVALID_CODES.has(c))) {
    return { kind: 'rejected', httpStatus: 0, errorCode: codes.find((c) => LOCAL_INVALID_CODES.has(c)) ?? 'LOCAL', reason };
  }
  if (context.requestStarted === false) return { kind: 'retry', reason: `not sent: ${reason}` };
  if (codes.some((c) => NEVER_SENT_CODES.has(c))) return { kind: 'retry', reason };
  return { kind: 'ambiguous', reason: `may have been sent: ${reason}` };
}

// ---------------------------------------------------------------------------------------------------------
// Message status (GET) and delivery reports
// ---------------------------------------------------------------------------------------------------------

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
  for (const key of ['description', 'reference', 'trafficAccountId', 'text', 'createdAt', 'updatedAt'] as const) {
    const field = value[key];
    if (typeof field === 'string') status[key] = field;
  }
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
