// A standalone test double of Mitto's Messaging API (docs/mitto-api.md) on plain node:http, for tests, the
// demo and benchmarks. Per-request work is kept minimal (no logging, ids without randomness or maps) so one
// core serves well over 200 bulk calls of 200 messages per second.
//
// Routes: the three Mitto endpoints (need `X-Mitto-API-Key`) and a control API under `/__sandbox/` (no key):
//   GET /__sandbox/stats, GET|POST /__sandbox/config, POST /__sandbox/reset,
//   GET /__sandbox/messages?destination=%2B41..., GET /__sandbox/references?ref=...
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultPlan } from './sandbox-faults.js';
import { HttpError, readBody, readJson, sendJson } from './sandbox-http.js';
import { MittoHandlers, type Reply } from './sandbox-mitto.js';
import { ReportDispatcher } from './sandbox-reports.js';
import { SandboxState, type Endpoint } from './sandbox-state.js';
import {
  DEFAULT_OPTIONS,
  mergeOptions,
  type RecordedMessage,
  type SandboxConfigPatch,
  type SandboxOptions,
  type SandboxStats,
} from './sandbox-types.js';
import { createRandom } from './sandbox-util.js';

// Mitto's ASP.NET-style routes are matched case-insensitively (assumed; harmless for a test double).
const BULK_PATH = '/api/v1.1/messages/sendmessagesbulk';
const SINGLE_PATH = '/api/v1.1/messages/send';
const STATUS_PREFIX = '/api/v1.1/messages/';
const CONTROL_PREFIX = '/__sandbox/';

/**
 * Longer than any client's idle keep-alive (undici: 4 s), so the server never closes an idle connection just
 * as a client reuses it: that race would show up as a spurious "ambiguous" send failure in the app's tests.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // malformed escapes cannot name a known message: the lookup answers 404
  }
}

export class MittoSandbox {
  private options: SandboxOptions;
  private apiKeys = new Set<string>();
  private random: () => number = Math.random;
  private faultPlan!: FaultPlan;
  private readonly state = new SandboxState();
  private readonly reports: ReportDispatcher;
  private readonly handlers: MittoHandlers;
  private server?: Server;

  constructor(options: SandboxConfigPatch = {}) {
    this.options = DEFAULT_OPTIONS;
    this.configure(options);
    this.reports = new ReportDispatcher(this.state, () => this.options);
    this.handlers = new MittoHandlers({
      state: this.state,
      reports: this.reports,
      options: () => this.options,
      faults: () => this.faultPlan,
      random: () => this.random(),
    });
  }

  async start(port = 0, host = '127.0.0.1'): Promise<{ port: number; url: string }> {
    if (this.server) throw new Error('MittoSandbox already started');
    const server = createServer((req, res) => this.onRequest(req, res));
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.reports.start();
    const actual = (server.address() as AddressInfo).port;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    return { port: actual, url: `http://${urlHost}:${actual}` };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await this.reports.stop();
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  stats(): SandboxStats {
    return this.state.stats(this.reports.pending);
  }

  /** Clears records, counters and scheduled reports; keeps the configuration. */
  reset(): void {
    this.state.reset();
    this.reports.clear();
  }

  /** Merges a partial configuration (faults key by key) and returns the resulting one. */
  configure(patch: SandboxConfigPatch): SandboxOptions {
    this.options = mergeOptions(this.options, patch);
    this.apiKeys = new Set(this.options.apiKeys);
    if ('seed' in patch) this.random = createRandom(this.options.seed ?? undefined);
    this.faultPlan = new FaultPlan(this.options.faults, () => this.random());
    return this.config();
  }

  config(): SandboxOptions {
    return structuredClone(this.options);
  }

  messagesFor(destination: string): RecordedMessage[] {
    return this.state.messagesForDestination(destination);
  }

  messagesForReference(reference: string): RecordedMessage[] {
    return this.state.messagesForReference(reference);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const done = (p: Promise<void>) =>
      p.catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        sendJson(res, status, { message: err instanceof Error ? err.message : 'Internal error' });
      });
    if (path.startsWith(CONTROL_PREFIX)) void done(this.onControl(req, res, path.slice(CONTROL_PREFIX.length), query));
    else void done(this.onMitto(req, res, path));
  }

  private async onMitto(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const lower = path.toLowerCase();
    let endpoint: Endpoint | undefined;
    if (req.method === 'POST' && lower === BULK_PATH) endpoint = 'bulk';
    else if (req.method === 'POST' && lower === SINGLE_PATH) endpoint = 'single';
    else if (req.method === 'GET' && lower.startsWith(STATUS_PREFIX) && lower.indexOf('/', STATUS_PREFIX.length) < 0) {
      endpoint = 'status';
    }
    if (!endpoint) {
      this.state.countUnroutedRequest();
      return this.reply(res, { status: 404, body: { message: 'Not found' } });
    }
    const header = req.headers['x-mitto-api-key'];
    const apiKey = typeof header === 'string' ? header : '';
    // Rejected keys are counted too (under the key presented), so a benchmark sees every request it made.
    this.state.countRequest(endpoint, apiKey || '(missing)', Date.now());
    if (!this.apiKeys.has(apiKey)) return this.reply(res, { status: 401, body: { message: 'Unauthorized' } });

    let reply: Reply;
    if (endpoint === 'status') {
      reply = this.handlers.status(safeDecode(path.slice(STATUS_PREFIX.length)));
    } else {
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        return this.reply(res, { status: err.status, body: { message: err.message } });
      }
      reply = endpoint === 'bulk' ? this.handlers.sendBulk(body, apiKey) : this.handlers.sendSingle(body, apiKey);
    }
    // Latency is added after the work: the messages are already accepted while the answer is on its way, so
    // a client timing out meanwhile faces the same ambiguity as with the real provider.
    const { latencyMs } = this.options;
    if (latencyMs > 0) setTimeout(() => this.reply(res, reply), latencyMs);
    else this.reply(res, reply);
  }

  /** Writes a Mitto answer (or drops the connection) and counts its outcome. */
  private reply(res: ServerResponse, reply: Reply): void {
    this.state.countOutcome(reply.drop ? 'dropped' : reply.status);
    if (reply.drop) res.socket?.destroy();
    else sendJson(res, reply.status, reply.body, reply.headers);
  }

  private async onControl(req: IncomingMessage, res: ServerResponse, route: string, query: string): Promise<void> {
    const params = new URLSearchParams(query);
    const key = `${req.method} ${route}`;
    switch (key) {
      case 'GET stats':
        return sendJson(res, 200, this.stats());
      case 'GET config':
        return sendJson(res, 200, this.config());
      case 'POST config': {
        const patch = await readJson(req);
        if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
          throw new HttpError(400, 'The body must be a JSON object.');
        }
        try {
          return sendJson(res, 200, this.configure(patch as SandboxConfigPatch));
        } catch (err) {
          throw new HttpError(400, err instanceof Error ? err.message : 'Invalid configuration');
        }
      }
      case 'POST reset':
        await readBody(req); // any body is ignored
        this.reset();
        return sendJson(res, 200, { ok: true });
      case 'GET messages': {
        // An unencoded "+" in a query string decodes as a space: accept both spellings.
        const destination = (params.get('destination') ?? '').trim().replace(/^(?=\d)/, '+');
        return sendJson(res, 200, this.messagesFor(destination));
      }
      case 'GET references':
        return sendJson(res, 200, this.messagesForReference(params.get('ref') ?? ''));
      default:
        return sendJson(res, 404, { message: 'Not found' });
    }
  }
}
