// Delivery-report (webhook) delivery of the Mitto sandbox.
//
// Assumptions (docs/mitto-api.md, "Delivery reports"): reports are POSTed as JSON arrays of Message-like
// objects, with the shared-secret header the customer registered (here `X-Webhook-Secret`). Each message gets
// exactly one report from the sandbox (unless the webhook keeps failing); the real provider may also repeat
// reports or reorder them, which the receiver must tolerate anyway.
import { Agent } from 'undici';
import type { SandboxState } from './sandbox-state.js';
import type { DeliveryReport, SandboxOptions } from './sandbox-types.js';
import { STATUS_DESCRIPTION } from './sandbox-util.js';

const TICK_MS = 50;
const MAX_IN_FLIGHT = 4;
const MAX_ATTEMPTS = 5;
const RETRY_BASE_MS = 250;
const POST_TIMEOUT_MS = 10_000;

interface Batch {
  indices: number[];
  attempts: number;
  dueAt: number;
}

export class ReportDispatcher {
  /**
   * Record indices waiting for their report time, in acceptance order. Reports are taken from the head only,
   * so after reportDelayMs is lowered at runtime newer reports wait behind older ones (GET status is exact).
   */
  private queue: number[] = [];
  private head = 0;
  private retries: Batch[] = [];
  private inFlight = new Set<Promise<void>>();
  private inFlightReports = 0;
  private timer?: NodeJS.Timeout;
  /**
   * undici's Agent rather than fetch: a benchmark posts hundreds of batches per second, and fetch's per-call
   * cost (Request/AbortSignal objects) showed in profiles. The Agent also enforces the timeouts.
   */
  private agent?: Agent;
  private stopped = true;
  private target?: { url: string; origin: string; path: string };

  constructor(
    private readonly state: SandboxState,
    private readonly options: () => SandboxOptions,
  ) {}

  schedule(index: number): void {
    this.queue.push(index);
  }

  get pending(): number {
    let n = this.queue.length - this.head + this.inFlightReports;
    for (const b of this.retries) n += b.indices.length;
    return n;
  }

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    this.agent = new Agent({
      connections: MAX_IN_FLIGHT,
      headersTimeout: POST_TIMEOUT_MS,
      bodyTimeout: POST_TIMEOUT_MS,
      connect: { timeout: POST_TIMEOUT_MS },
    });
    this.timer = setInterval(() => this.pump(), TICK_MS);
    this.timer.unref();
  }

  /** Stops the loop and aborts the POSTs in flight (their reports count neither as sent nor failed). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    const agent = this.agent;
    this.agent = undefined;
    await agent?.destroy().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
  }

  /** Forgets every scheduled report (on reset). Answers of POSTs in flight are ignored via state.generation. */
  clear(): void {
    this.queue = [];
    this.head = 0;
    this.retries = [];
  }

  /** Starts as many POSTs as the concurrency cap allows; called on every tick and when a POST completes. */
  private pump(): void {
    const { webhookUrl, webhookSecret, reportBatchSize } = this.options();
    if (!webhookUrl || this.stopped) return;
    const now = Date.now();
    while (this.inFlight.size < MAX_IN_FLIGHT) {
      const batch = this.nextBatch(now, reportBatchSize);
      if (!batch) return;
      const p = this.post(webhookUrl, webhookSecret, batch).finally(() => {
        this.inFlight.delete(p);
        this.pump();
      });
      this.inFlight.add(p);
    }
  }

  private nextBatch(now: number, size: number): Batch | undefined {
    const r = this.retries.findIndex((b) => b.dueAt <= now);
    if (r >= 0) return this.retries.splice(r, 1)[0];
    const indices: number[] = [];
    while (this.head < this.queue.length && indices.length < size && this.state.reportAtMs(this.queue[this.head]) <= now) {
      indices.push(this.queue[this.head++]);
    }
    // Drop the consumed prefix now and then, so a long run does not keep every index forever.
    if (this.head > 65_536 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return indices.length > 0 ? { indices, attempts: 0, dueAt: now } : undefined;
  }

  private resolve(url: string): { origin: string; path: string } {
    if (this.target?.url !== url) {
      const u = new URL(url);
      this.target = { url, origin: u.origin, path: u.pathname + u.search };
    }
    return this.target;
  }

  private report(i: number): DeliveryReport {
    const status = this.state.finalStatus(i);
    return {
      messageId: this.state.messageId(i),
      deliveryStatus: status,
      description: STATUS_DESCRIPTION[status],
      updatedAt: this.state.isoTime(this.state.reportAtMs(i)),
      reference: this.state.referenceOf(i),
      trafficAccountId: this.state.trafficAccountOf(i),
    };
  }

  private async post(url: string, secret: string | undefined, batch: Batch): Promise<void> {
    const generation = this.state.generation;
    const n = batch.indices.length;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (secret) headers['x-webhook-secret'] = secret;
    this.inFlightReports += n;
    let ok = false;
    try {
      const { origin, path } = this.resolve(url);
      const body = JSON.stringify(batch.indices.map((i) => this.report(i)));
      const res = await this.agent!.request({ origin, path, method: 'POST', headers, body });
      await res.body.dump(); // drain, so the keep-alive connection is reused
      ok = res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      // bad URL, connection refused, timeout, stop(): counted as a failed attempt, never a crash
    } finally {
      this.inFlightReports -= n;
    }
    if (generation !== this.state.generation || this.stopped) return;
    if (ok) {
      this.state.reportsSent += n;
      return;
    }
    this.state.reportsFailed += n;
    batch.attempts++;
    if (batch.attempts >= MAX_ATTEMPTS) this.state.reportsDropped += n;
    else this.retries.push({ ...batch, dueAt: Date.now() + RETRY_BASE_MS * 2 ** (batch.attempts - 1) });
  }
}
