// The three Mitto Messaging API endpoints the sandbox mimics (shapes: docs/mitto-api.md). Handlers are
// synchronous and transport-free: they get the parsed body and return a Reply that the server writes.
import { randomUUID } from 'node:crypto';
import type { FaultDecision, FaultPlan } from './sandbox-faults.js';
import type { ReportDispatcher } from './sandbox-reports.js';
import type { AcceptInput, SandboxState } from './sandbox-state.js';
import type { SandboxOptions } from './sandbox-types.js';
import { STATUS_DESCRIPTION, messageParts } from './sandbox-util.js';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Destroy the socket without answering (acceptThenDrop). */
  drop?: boolean;
}

export interface MittoContext {
  state: SandboxState;
  reports: ReportDispatcher;
  options: () => SandboxOptions;
  faults: () => FaultPlan;
  random: () => number;
}

interface Rejection {
  trafficAccountId: unknown;
  error: string;
  errorCode: string;
}

/** Result item of a send: accepted `{ messageId, trafficAccountId }` or a rejection (no messageId). */
type ItemResult = { messageId: string; trafficAccountId: string } | Rejection;

/** acceptThenDrop: the messages were recorded, the socket is destroyed without an answer. */
const DROP: Reply = { status: 0, drop: true };

const E164 = /^\+[1-9]\d{6,14}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

export class MittoHandlers {
  constructor(private readonly ctx: MittoContext) {}

  /** POST /api/v1.1/Messages/sendmessagesbulk */
  sendBulk(body: unknown, apiKey: string): Reply {
    const decision = this.ctx.faults().draw();
    if (decision !== 'none' && decision !== 'acceptThenDrop') return this.faultReply(decision);
    const items = isObject(body) ? body.messages : undefined;
    if (!Array.isArray(items) || items.length === 0) {
      return { status: 400, body: { message: 'The messages field must be a non-empty array.', errors: [] } };
    }
    const now = Date.now();
    const results = items.map((item) => this.acceptItem(item, apiKey, now));
    const rejected = results.filter((r): r is Rejection => 'errorCode' in r);
    if (rejected.length > 0) this.ctx.state.countRejected(rejected.length);
    if (decision === 'acceptThenDrop') return DROP;
    // Assumed (docs/mitto-api.md): a call in which every item is rejected comes back as HTTP 400.
    if (rejected.length === results.length) {
      return { status: 400, body: { message: 'All messages were rejected.', errors: rejected } };
    }
    return { status: 200, body: { bulkId: randomUUID(), messages: results } };
  }

  /** POST /api/v1.1/Messages/send */
  sendSingle(body: unknown, apiKey: string): Reply {
    const decision = this.ctx.faults().draw();
    if (decision !== 'none' && decision !== 'acceptThenDrop') return this.faultReply(decision);
    const result = this.acceptItem(body, apiKey, Date.now());
    const rejected = 'errorCode' in result;
    if (rejected) this.ctx.state.countRejected();
    if (decision === 'acceptThenDrop') return DROP;
    if (rejected) return { status: 400, body: { message: result.error, errorCode: result.errorCode } };
    return { status: 200, body: { messages: [result] } };
  }

  /** GET /api/v1.1/Messages/{messageId} */
  status(messageId: string): Reply {
    const { state } = this.ctx;
    const i = state.indexOf(messageId);
    if (i < 0) return { status: 404, body: { message: 'Message not found' } };
    const createdAt = state.acceptedAtMs(i);
    const reportAt = state.reportAtMs(i);
    // The final status is decided at acceptance; it shows from the scheduled report time on, the same
    // moment the webhook becomes due, so polling and webhooks never disagree.
    const final = Date.now() >= reportAt;
    const deliveryStatus = final ? state.finalStatus(i) : 'Sent';
    const text = state.textOf(i);
    return {
      status: 200,
      body: {
        messageId,
        text,
        trafficAccountId: state.trafficAccountOf(i),
        deliveryStatus,
        description: STATUS_DESCRIPTION[deliveryStatus],
        messageParts: messageParts(text),
        reference: state.referenceOf(i),
        createdAt: new Date(createdAt).toISOString(),
        updatedAt: new Date(final ? reportAt : createdAt).toISOString(),
      },
    };
  }

  private faultReply(decision: Exclude<FaultDecision, 'none' | 'acceptThenDrop'>): Reply {
    switch (decision) {
      case 'error500':
        return { status: 500, body: { message: 'Internal server error' } };
      case 'error429':
        return {
          status: 429,
          body: { message: 'Too many requests' },
          headers: { 'Retry-After': String(Math.ceil(this.ctx.faults().retryAfterSeconds)) }, // delta-seconds: an integer
        };
      case 'error503':
        return { status: 503, body: { message: 'Service unavailable' } };
    }
  }

  /** Validates one message and records it when valid. Assumed error codes (Mitto documents none). */
  private acceptItem(raw: unknown, apiKey: string, now: number): ItemResult {
    const m = isObject(raw) ? raw : {};
    const trafficAccountId = m.trafficAccountId ?? null;
    const sms = isObject(m.sms) ? m.sms : {};
    const reference = m.reference ?? '';
    if (
      !nonEmptyString(m.destination) ||
      !nonEmptyString(sms.text) ||
      !nonEmptyString(trafficAccountId) ||
      typeof reference !== 'string'
    ) {
      return {
        trafficAccountId,
        error: 'trafficAccountId, destination and sms.text are required; reference must be a string.',
        errorCode: 'INVALID_MESSAGE',
      };
    }
    if (!E164.test(m.destination)) {
      return { trafficAccountId, error: 'The destination is not a valid E.164 number.', errorCode: 'INVALID_DESTINATION' };
    }
    if (this.ctx.faults().isRejectedDestination(m.destination)) {
      return { trafficAccountId, error: 'The destination was rejected.', errorCode: 'DESTINATION_REJECTED' };
    }
    const opts = this.ctx.options();
    const input: AcceptInput = {
      destination: m.destination,
      text: sms.text,
      reference,
      apiKey,
      trafficAccountId,
      delivered: this.ctx.random() < opts.deliveredRatio,
    };
    const i = this.ctx.state.accept(input, now, now + opts.reportDelayMs);
    // Reports are decided at acceptance: none while no webhook is configured or reports are suppressed.
    if (opts.webhookUrl && !opts.suppressReports) this.ctx.reports.schedule(i);
    return { messageId: this.ctx.state.messageId(i), trafficAccountId };
  }
}
