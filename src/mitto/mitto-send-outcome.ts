// Pure classification of Mitto's answers to a send call (bulk or single) and of transport failures. No I/O,
// no clock unless passed in. Reading an answer's text, headers and errors: mitto-response.ts; the answers of
// a status lookup and delivery reports: mitto-message-status.ts.
//
// Assumptions about Mitto are taken from docs/MITTO_API.md ("Send many messages",
// "Errors, limits, idempotency"); each is marked where it is used. The central rule of
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
  type MittoRejectedItem,
  type MittoSendItemResult,
  type MittoSendOutcome,
  type MittoWireSendResponse,
  type MittoWireSendResponseItem,
} from './mitto.types.js';
import {
  LOCAL_INVALID_CODES,
  RETRY_4XX,
  asText,
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
