// The only code that speaks HTTP to Mitto. Paths, headers and body shapes follow
// docs/MITTO_API.md (see mitto.types.ts for each assumption); how answers are read is in
// mitto-send-outcome.ts and mitto-message-status.ts (pure, unit-tested).
//
// Guarantees:
// - No method rejects: every failure is a MittoSendOutcome / MittoMessageLookup.
// - One deadline (requestTimeoutMs) covers the whole call: waiting for a pooled connection, connect, write,
//   headers and body. Undici's own headers/body timeouts are set slightly longer as a backstop.
// - The response body is always read to its end (and kept up to MITTO_MAX_RESPONSE_BYTES) or the request is
//   aborted, which destroys the socket: nothing is left unconsumed on a pooled connection.
// - The API key is sent only as a header and scrubbed from every reason.
// - We know whether undici handed the request to a socket (onRequestStart; for a buffered body headers and
//   body are written synchronously right after). A failure before that point is `retry`; after it,
//   `ambiguous` unless the error code proves the request was never written.

import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Pool, type Dispatcher } from 'undici';

import { classifyHttpResponse, classifyTransportError } from './mitto-send-outcome.js';
import { classifyLookupResponse, classifyLookupTransportError } from './mitto-message-status.js';
import type { MittoResponseHeaders } from './mitto-response.js';
import {
  MITTO_API_KEY_HEADER,
  MITTO_CLIENT_OPTIONS,
  MITTO_MAX_RESPONSE_BYTES,
  MITTO_SEND_BULK_PATH,
  MITTO_SEND_ONE_PATH,
  mittoMessagePath,
  toWireSendItem,
  type MittoClientOptions,
  type MittoMessageLookup,
  type MittoOutgoingMessage,
  type MittoSendOutcome,
  type MittoWireBulkRequest,
} from './mitto.types.js';

export { MITTO_CLIENT_OPTIONS, type MittoClientOptions } from './mitto.types.js';

/** Our whole-call deadline fired. Classified like any transport error (ambiguous once the request started). */
export class MittoDeadlineError extends Error {
  readonly code = 'MITTO_DEADLINE_EXCEEDED';
  constructor(timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = 'MittoDeadlineError';
  }
}

interface RawResponse {
  statusCode: number;
  headers: MittoResponseHeaders;
  bodyText: string;
}

type Exchange =
  | { ok: true; response: RawResponse }
  | { ok: false; error: unknown; requestStarted: boolean; afterStatus?: number };

/** A send request ready to go: see `MittoClient.prepareBulk`. */
export interface PreparedSend {
  readonly apiKey: string;
  readonly path: string;
  readonly body: Buffer;
  readonly messages: readonly MittoOutgoingMessage[];
}

/** Undici's idle keep-alive default (4 s) stays: it must be shorter than the server's idle timeout, or a
 * reused socket closed by the server at the same moment turns a send into an ambiguous outcome. Undici also
 * honours a `Keep-Alive: timeout=N` hint from the server. */
const KEEP_ALIVE_TIMEOUT_MS = 4_000;
/** Undici's own headers/body timeouts: backstop only, our deadline fires first. */
const UNDICI_TIMEOUT_SLACK_MS = 1_000;

@Injectable()
export class MittoClient implements OnModuleDestroy {
  private readonly pool: Pool;
  private readonly pathPrefix: string;
  private closing: Promise<void> | undefined;

  constructor(@Inject(MITTO_CLIENT_OPTIONS) private readonly options: MittoClientOptions) {
    validateOptions(options);
    const url = new URL(options.baseUrl);
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    // One pool for the one Mitto origin: keep-alive connections, no pipelining (a failure on a pipelined
    // socket would make every request queued behind it ambiguous).
    this.pool = new Pool(url.origin, {
      connections: options.maxConnections,
      pipelining: 1,
      connect: { timeout: options.connectTimeoutMs, keepAlive: true },
      headersTimeout: options.requestTimeoutMs + UNDICI_TIMEOUT_SLACK_MS,
      bodyTimeout: options.requestTimeoutMs + UNDICI_TIMEOUT_SLACK_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    });
  }

  /**
   * `POST sendmessagesbulk` (doc "Send many messages in one call"). `items[i]` of an accepted outcome answers
   * `messages[i]`. An empty list makes no HTTP call and is accepted with no items.
   */
  async sendBulk(apiKey: string, messages: MittoOutgoingMessage[]): Promise<MittoSendOutcome> {
    return this.call(this.prepareBulk(apiKey, messages));
  }

  /** `POST send` (doc "Send one message"): the body is the single message itself. */
  async sendOne(apiKey: string, message: MittoOutgoingMessage): Promise<MittoSendOutcome> {
    return this.call(this.prepareOne(apiKey, message));
  }

  /**
   * A send with its body already serialised, so that the moment between "about to call" (the batch's
   * write-ahead marker) and "request on the wire" holds no CPU work.
   */
  prepareBulk(apiKey: string, messages: readonly MittoOutgoingMessage[]): PreparedSend {
    const body: MittoWireBulkRequest = { messages: messages.map(toWireSendItem) };
    return { apiKey, path: MITTO_SEND_BULK_PATH, body: Buffer.from(JSON.stringify(body), 'utf8'), messages };
  }

  prepareOne(apiKey: string, message: MittoOutgoingMessage): PreparedSend {
    return { apiKey, path: MITTO_SEND_ONE_PATH, body: Buffer.from(JSON.stringify(toWireSendItem(message)), 'utf8'), messages: [message] };
  }

  /** Sends a prepared request and classifies the answer (see mitto-send-outcome.ts). */
  async call(prepared: PreparedSend): Promise<MittoSendOutcome> {
    if (prepared.messages.length === 0) return { kind: 'accepted', items: [] };
    return this.send(prepared.apiKey, prepared.path, prepared.body, prepared.messages);
  }

  /** `GET /Messages/{id}` (doc "Message status"). 404 → not-found. */
  async getMessage(apiKey: string, providerMessageId: string): Promise<MittoMessageLookup> {
    if (!apiKey) return { kind: 'error', retryable: false, reason: 'empty API key' };
    if (!providerMessageId) return { kind: 'error', retryable: false, reason: 'empty provider message id' };
    const secrets = [apiKey];
    const exchange = await this.exchange('GET', mittoMessagePath(providerMessageId), apiKey, undefined);
    if (!exchange.ok) return classifyLookupTransportError(exchange.error, { secrets });
    const { statusCode, headers, bodyText } = exchange.response;
    return classifyLookupResponse(providerMessageId, statusCode, headers, bodyText, { secrets });
  }

  async onModuleDestroy(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Graceful close (lets in-flight calls finish), destroyed if that takes longer than one call may take. */
  private async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.requestTimeoutMs + UNDICI_TIMEOUT_SLACK_MS);
    });
    const result = await Promise.race([this.pool.close().then(() => 'closed' as const), graceOver]);
    clearTimeout(timer);
    if (result === 'timeout') await this.pool.destroy();
  }

  private async send(
    apiKey: string,
    path: string,
    body: Buffer,
    messages: readonly MittoOutgoingMessage[],
  ): Promise<MittoSendOutcome> {
    if (!apiKey) return { kind: 'rejected', httpStatus: 0, errorCode: 'MISSING_API_KEY', reason: 'empty API key' };
    const secrets = [apiKey];
    const exchange = await this.exchange('POST', path, apiKey, body);
    if (!exchange.ok) {
      const outcome = classifyTransportError(exchange.error, { requestStarted: exchange.requestStarted, secrets });
      if (exchange.afterStatus !== undefined && outcome.kind === 'ambiguous') {
        return { ...outcome, httpStatus: exchange.afterStatus, reason: `HTTP ${exchange.afterStatus} body incomplete, ${outcome.reason}` };
      }
      return outcome;
    }
    const { statusCode, headers, bodyText } = exchange.response;
    return classifyHttpResponse(messages.length, statusCode, headers, bodyText, {
      references: messages.map((m) => m.reference),
      secrets,
    });
  }

  /**
   * One HTTP exchange under one deadline. Resolves (never rejects) with the complete response, or the error
   * and whether the request had been handed to a socket.
   */
  private exchange(method: 'GET' | 'POST', path: string, apiKey: string, body: Buffer | undefined): Promise<Exchange> {
    const timeoutMs = this.options.requestTimeoutMs;
    return new Promise<Exchange>((resolve) => {
      let settled = false;
      let started = false;
      let cancelledBy: Error | undefined;
      let controller: Dispatcher.DispatchController | undefined;
      let statusCode = 0;
      let headers: MittoResponseHeaders = {};
      const chunks: Buffer[] = [];
      let keptBytes = 0;

      const finish = (result: Exchange): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      // With pipelining 1, undici frees a keep-alive socket for the next request only one event-loop turn
      // after a response completes (setImmediate in client-h1). Resolving after that turn lets the caller's
      // next call reuse this warm connection instead of opening another one. The outcome is fixed now
      // (`settled`, timer cleared); only its delivery waits.
      const finishAfterSocketRelease = (result: Exchange): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        setImmediate(() => setImmediate(() => resolve(result)));
      };
      const partialBody = (): string => Buffer.concat(chunks).toString('utf8');

      // A non-2xx status already tells Mitto's verdict even if its body never completes.
      const failed = (error: unknown): void => {
        if (statusCode >= 300) {
          finish({ ok: true, response: { statusCode, headers, bodyText: partialBody() } });
        } else {
          finish({ ok: false, error, requestStarted: started, ...(statusCode >= 200 ? { afterStatus: statusCode } : {}) });
        }
      };

      const timer = setTimeout(() => {
        cancelledBy = new MittoDeadlineError(timeoutMs);
        // Before onRequestStart nothing was written; when the request reaches a socket later, it is aborted
        // in onRequestStart before a byte is written. After it, abort destroys the socket (and the body).
        controller?.abort(cancelledBy);
        failed(cancelledBy);
      }, timeoutMs);

      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(ctrl) {
          controller = ctrl;
          if (cancelledBy) {
            ctrl.abort(cancelledBy);
            return;
          }
          started = true;
        },
        onResponseStart(_ctrl, status, responseHeaders) {
          if (status < 200) return; // 1xx informational: the final answer follows
          statusCode = status;
          headers = responseHeaders;
        },
        onResponseData(_ctrl, chunk) {
          // Always drained; kept only up to the cap (a truncated 2xx body fails to parse → ambiguous).
          if (keptBytes < MITTO_MAX_RESPONSE_BYTES) {
            chunks.push(chunk);
            keptBytes += chunk.length;
          }
        },
        onResponseEnd() {
          finishAfterSocketRelease({ ok: true, response: { statusCode, headers, bodyText: partialBody() } });
        },
        onResponseError(_ctrl, error) {
          failed(error);
        },
      };

      const requestHeaders: Record<string, string> = {
        [MITTO_API_KEY_HEADER]: apiKey,
        accept: 'application/json',
      };
      if (body) requestHeaders['content-type'] = 'application/json';

      try {
        this.pool.dispatch({ method, path: this.pathPrefix + path, headers: requestHeaders, body: body ?? null }, handler);
      } catch (error) {
        // Dispatch reports errors through onResponseError; this is a backstop for a synchronous throw.
        failed(error);
      }
    });
  }
}

function validateOptions(options: MittoClientOptions): void {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new Error(`MittoClient: baseUrl is not a URL: ${String(options.baseUrl)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('MittoClient: baseUrl must be http(s)');
  if (url.username || url.password || url.search || url.hash) {
    throw new Error('MittoClient: baseUrl must not carry credentials, a query or a fragment');
  }
  for (const key of ['connectTimeoutMs', 'requestTimeoutMs', 'maxConnections'] as const) {
    const value = options[key];
    if (!Number.isInteger(value) || value <= 0) throw new Error(`MittoClient: ${key} must be a positive integer`);
  }
}
