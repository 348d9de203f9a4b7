import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { SandboxControl } from './sandbox-client.js';
import { MittoSandbox } from './sandbox-server.js';
import { DEFAULT_FAULTS, type DeliveryReport } from './sandbox-types.js';
import { messageParts } from './sandbox-util.js';

const KEY = 'test-key';
const TA = '4ae53d46-66d8-4aff-9f13-621f53b90000';
const BULK = '/api/v1.1/Messages/sendmessagesbulk';
const SINGLE = '/api/v1.1/Messages/send';
const ULID_LIKE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const msg = (destination: string, text = 'Hello', reference?: string) => ({
  trafficAccountId: TA,
  destination,
  sms: { text, sender: 'ACME' },
  ...(reference === undefined ? {} : { reference }),
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** A webhook receiver whose answer status can be scripted per request. */
class Receiver {
  readonly posts: { headers: IncomingHttpHeaders; body: DeliveryReport[] }[] = [];
  statuses: number[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.statuses.shift() ?? 200;
        if (status === 200) {
          this.posts.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as DeliveryReport[] });
        }
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hooks/mitto`;
  }
  get reports(): DeliveryReport[] {
    return this.posts.flatMap((p) => p.body);
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => {
      this.server?.close(() => r());
      this.server?.closeAllConnections();
    });
  }
}

describe('MittoSandbox', () => {
  const sandbox = new MittoSandbox({ apiKeys: [KEY, 'other-key'] });
  const receiver = new Receiver();
  let base = '';
  let control: SandboxControl;

  const call = async (method: string, path: string, body?: unknown, key: string | null = KEY) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (key !== null) headers['X-Mitto-API-Key'] = key;
    const res = await fetch(base + path, { method, headers, body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : undefined };
  };

  beforeAll(async () => {
    await receiver.start();
    const { url, port } = await sandbox.start(0);
    expect(port).toBeGreaterThan(0);
    base = url;
    control = new SandboxControl(url);
  });
  afterAll(async () => {
    await sandbox.stop();
    await receiver.stop();
  });
  beforeEach(() => {
    sandbox.reset();
    sandbox.configure({
      latencyMs: 0,
      webhookUrl: undefined,
      reportDelayMs: 1000,
      deliveredRatio: 1,
      reportBatchSize: 100,
      suppressReports: false,
      faults: DEFAULT_FAULTS,
    });
  });

  it('rejects a missing or unknown API key with 401 on every Mitto endpoint', async () => {
    for (const key of [null, 'wrong']) {
      expect(await call('POST', BULK, { messages: [msg('+41791234567')] }, key)).toMatchObject({ status: 401, body: { message: 'Unauthorized' } });
      expect((await call('POST', SINGLE, msg('+41791234567'), key)).status).toBe(401);
      expect((await call('GET', '/api/v1.1/Messages/01K8RBH8A6J1410YE2M9G780PK', undefined, key)).status).toBe(401);
    }
    expect(sandbox.stats().accepted).toBe(0);
    expect((await call('POST', BULK, { messages: [msg('+41791234567')] }, 'other-key')).status).toBe(200);
  });

  it('answers 404 on unknown routes', async () => {
    expect((await call('GET', '/api/v1.1/Nope/x/y')).status).toBe(404);
    expect((await call('GET', BULK)).status).toBe(404);
    expect((await call('GET', '/__sandbox/nope')).status).toBe(404);
  });

  it('sends a bulk call, keeping the order, with ULID-like ids and a UUID bulkId', async () => {
    const dests = ['+41791234567', '+41797654321', '+41791234567'];
    const res = await call('POST', BULK, { messages: dests.map((d, i) => msg(d, `Hi ${i}`, `ref-${i}`)) });
    expect(res.status).toBe(200);
    expect(res.body.bulkId).toMatch(UUID);
    expect(res.body.messages).toHaveLength(3);
    const ids: string[] = res.body.messages.map((m: { messageId: string }) => m.messageId);
    for (const m of res.body.messages) expect(m).toEqual({ messageId: expect.stringMatching(ULID_LIKE), trafficAccountId: TA });
    expect(new Set(ids).size).toBe(3);
    expect([...ids].sort()).toEqual(ids); // time-ordered
    const recorded = sandbox.messagesFor('+41791234567');
    expect(recorded.map((r) => [r.messageId, r.text, r.reference, r.apiKey])).toEqual([
      [ids[0], 'Hi 0', 'ref-0', KEY],
      [ids[2], 'Hi 2', 'ref-2', KEY],
    ]);
    const viaHttp = await control.messages('+41791234567');
    expect(viaHttp.map((r) => r.messageId)).toEqual([ids[0], ids[2]]);
    expect((await call('GET', '/__sandbox/messages?destination=+41791234567')).body).toHaveLength(2); // unencoded "+"
    expect((await control.references('ref-1'))[0]).toMatchObject({ messageId: ids[1], destination: '+41797654321', trafficAccountId: TA });
  });

  it('rejects invalid items in place and answers 400 when every item is rejected', async () => {
    sandbox.configure({ faults: { rejectDestinations: ['+41790000000'] } });
    const res = await call('POST', BULK, {
      messages: [msg('+41791234567'), { trafficAccountId: TA, destination: '+41791234568', sms: {} }, msg('0791234567'), msg('+41790000000')],
    });
    expect(res.status).toBe(200);
    expect(res.body.messages[0].messageId).toMatch(ULID_LIKE);
    expect(res.body.messages.slice(1).map((m: { errorCode: string }) => m.errorCode)).toEqual([
      'INVALID_MESSAGE',
      'INVALID_DESTINATION',
      'DESTINATION_REJECTED',
    ]);
    for (const m of res.body.messages.slice(1)) {
      expect(m).toEqual({ trafficAccountId: TA, error: expect.any(String), errorCode: expect.any(String) });
    }
    const all = await call('POST', BULK, { messages: [msg('+1'), msg('+41790000000')] });
    expect(all.status).toBe(400);
    expect(all.body.errors.map((e: { errorCode: string }) => e.errorCode)).toEqual(['INVALID_DESTINATION', 'DESTINATION_REJECTED']);
    expect((await call('POST', BULK, { messages: [] })).status).toBe(400);
    expect((await call('POST', BULK, {})).status).toBe(400);
    expect((await call('POST', BULK, '{not json')).status).toBe(400);
    expect(sandbox.stats()).toMatchObject({ accepted: 1, rejected: 5 });
  });

  it('sends a single message and rejects an invalid one with 400', async () => {
    const ok = await call('POST', SINGLE, msg('+41791234567', 'Hi', 'r1'));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ messages: [{ messageId: expect.stringMatching(ULID_LIKE), trafficAccountId: TA }] });
    const bad = await call('POST', SINGLE, msg('+41abc'));
    expect(bad).toMatchObject({ status: 400, body: { message: expect.any(String), errorCode: 'INVALID_DESTINATION' } });
  });

  it('reports Sent until the report time, then the final status; 404 for unknown ids', async () => {
    sandbox.configure({ reportDelayMs: 150 });
    const text = 'Cześć '.repeat(20); // UCS-2 (ś, ć), 120 chars → 2 parts
    const sent = await call('POST', BULK, { messages: [msg('+41791234567', text, 'ref-x')] });
    const id: string = sent.body.messages[0].messageId;
    const first = await call('GET', `/api/v1.1/Messages/${id}`);
    expect(first).toMatchObject({ status: 200, body: { messageId: id, text, trafficAccountId: TA, deliveryStatus: 'Sent', messageParts: 2, reference: 'ref-x' } });
    expect(first.body.createdAt).toBe(first.body.updatedAt);
    await sleep(200);
    const later = await call('GET', `/api/v1.1/Messages/${id}`);
    expect(later.body).toMatchObject({ deliveryStatus: 'Delivered', description: expect.any(String) });
    expect(later.body.updatedAt > later.body.createdAt).toBe(true);

    sandbox.configure({ reportDelayMs: 0, deliveredRatio: 0 });
    const failed = await call('POST', SINGLE, msg('+41791234567'));
    expect((await call('GET', `/api/v1.1/Messages/${failed.body.messages[0].messageId}`)).body.deliveryStatus).toBe('Failure');

    expect((await call('GET', '/api/v1.1/Messages/01K8RBH8A6J1410YE2M9G780PK')).status).toBe(404);
    sandbox.reset();
    expect((await call('GET', `/api/v1.1/Messages/${id}`)).status).toBe(404); // ids of a previous generation
  });

  it('injects 500, 429 with Retry-After and 503 without accepting anything', async () => {
    for (const [faults, status] of [
      [{ error500Ratio: 1 }, 500],
      [{ error500Ratio: 0, error429Ratio: 1, retryAfterSeconds: 7 }, 429],
      [{ error429Ratio: 0, error503Ratio: 1 }, 503],
    ] as const) {
      sandbox.configure({ faults });
      const bulk = await call('POST', BULK, { messages: [msg('+41791234567')] });
      expect(bulk.status).toBe(status);
      expect((await call('POST', SINGLE, msg('+41791234567'))).status).toBe(status);
      if (status === 429) expect(bulk.headers.get('retry-after')).toBe('7');
    }
    expect((await call('GET', '/api/v1.1/Messages/01K8RBH8A6J1410YE2M9G780PK')).status).toBe(404); // no faults on status
    expect(sandbox.stats()).toMatchObject({ accepted: 0, requests: { byStatusCode: { '500': 2, '429': 2, '503': 2, '404': 1 } } });
  });

  it('accepts then drops the connection (the ambiguous outcome)', async () => {
    sandbox.configure({ faults: { acceptThenDropRatio: 1 } });
    await expect(call('POST', BULK, { messages: [msg('+41791234567', 'a', 'ref-d')] })).rejects.toThrow();
    await expect(call('POST', SINGLE, msg('+41791234568'))).rejects.toThrow();
    const stats = await control.stats();
    expect(stats).toMatchObject({ accepted: 2, requests: { byStatusCode: { dropped: 2 } } });
    expect(sandbox.messagesForReference('ref-d')).toHaveLength(1);
  });

  it('draws faults deterministically with a seed', async () => {
    const run = () => {
      const s = new MittoSandbox({ seed: 42, faults: { ...DEFAULT_FAULTS, error500Ratio: 0.5 } });
      const h = (s as unknown as { handlers: { sendSingle(b: unknown, k: string): { status: number } } }).handlers;
      return Array.from({ length: 20 }, () => h.sendSingle(msg('+41791234567'), 'k').status);
    };
    const a = run();
    expect(a).toEqual(run());
    expect(a).toContain(500);
    expect(a).toContain(200);
  });

  it('delays answers by latencyMs', async () => {
    sandbox.configure({ latencyMs: 120 });
    const t0 = Date.now();
    expect((await call('POST', SINGLE, msg('+41791234567'))).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it('counts requests, duplicates and per-second rates; reset clears them but keeps the config', async () => {
    await call('POST', BULK, { messages: [msg('+41791234567', 'a', 'r1'), msg('+41791234567', 'b', 'r2'), msg('+41791234568', 'c', 'r1')] });
    // duplicates are counted when the stats are read, from where the last read stopped
    expect(await control.stats()).toMatchObject({ accepted: 3, uniqueDestinations: 2, duplicateDestinations: 1, duplicateReferences: 1 });
    await call('POST', SINGLE, msg('+41791234568', 'd', 'r2'));
    await call('POST', SINGLE, msg('+41791234569', 'e'));
    await call('POST', SINGLE, msg('+41791234560', 'f'), 'bad');
    const stats = await control.stats();
    expect(stats).toMatchObject({
      requests: { total: 4, byEndpoint: { bulk: 1, single: 3, status: 0 }, byStatusCode: { '200': 3, '401': 1 } },
      accepted: 5,
      rejected: 0,
      uniqueDestinations: 3,
      duplicateDestinations: 2,
      duplicateReferences: 2,
    });
    const perSecond = Object.values(stats.perSecondByApiKey[KEY]).reduce((a, b) => a + b, 0);
    expect(perSecond).toBe(3);
    expect(stats.maxRequestsInAnySecond[KEY]).toBeGreaterThanOrEqual(2);
    expect(stats.perSecondByApiKey.bad).toBeDefined();

    await control.configure({ latencyMs: 5 });
    await control.reset();
    expect(await control.stats()).toMatchObject({ accepted: 0, requests: { total: 0 }, duplicateReferences: 0, perSecondByApiKey: {} });
    expect((await control.config()).latencyMs).toBe(5);
  });

  it('merges configuration over HTTP and validates it', async () => {
    const cfg = await control.configure({ faults: { error503Ratio: 0.25 }, reportBatchSize: 7 });
    expect(cfg).toMatchObject({ reportBatchSize: 7, apiKeys: [KEY, 'other-key'], faults: { error503Ratio: 0.25, error500Ratio: 0 } });
    expect((await call('POST', '/__sandbox/config', { apiKeys: 'x' })).status).toBe(400);
    expect((await call('POST', '/__sandbox/config', [1])).status).toBe(400);
  });

  it('posts delivery reports in batches with the secret header, once per message', async () => {
    sandbox.configure({ webhookUrl: receiver.url, webhookSecret: 's3cret', reportDelayMs: 30, reportBatchSize: 2, deliveredRatio: 0 });
    receiver.posts.length = 0;
    const res = await call('POST', BULK, { messages: [1, 2, 3, 4, 5].map((i) => msg(`+4179123456${i}`, `t${i}`, `ref-${i}`)) });
    const ids: string[] = res.body.messages.map((m: { messageId: string }) => m.messageId);
    await waitFor(() => sandbox.stats().reportsSent === 5);
    expect(receiver.posts.every((p) => p.body.length <= 2 && p.headers['x-webhook-secret'] === 's3cret')).toBe(true);
    expect(receiver.posts[0].headers['content-type']).toContain('application/json');
    expect(receiver.reports.map((r) => r.messageId).sort()).toEqual([...ids].sort());
    expect(receiver.reports[0]).toEqual({
      messageId: ids[0],
      deliveryStatus: 'Failure',
      description: expect.any(String),
      updatedAt: expect.any(String),
      reference: 'ref-1',
      trafficAccountId: TA,
    });
    expect(sandbox.stats()).toMatchObject({ reportsFailed: 0, reportsPending: 0 });
  });

  it('retries failed report POSTs and counts the failures', async () => {
    sandbox.configure({ webhookUrl: receiver.url, reportDelayMs: 0 });
    receiver.posts.length = 0;
    receiver.statuses = [500];
    await call('POST', SINGLE, msg('+41791234567', 'x', 'ref-retry'));
    await waitFor(() => sandbox.stats().reportsSent === 1);
    expect(sandbox.stats()).toMatchObject({ reportsFailed: 1, reportsPending: 0 });
    expect(receiver.reports.map((r) => r.reference)).toEqual(['ref-retry']);
  });

  it('survives an unreachable webhook and sends nothing when reports are suppressed', async () => {
    sandbox.configure({ webhookUrl: 'http://127.0.0.1:9/unreachable', reportDelayMs: 0 });
    await call('POST', SINGLE, msg('+41791234567'));
    await waitFor(() => sandbox.stats().reportsFailed >= 1);
    expect((await call('POST', SINGLE, msg('+41791234568'))).status).toBe(200);

    sandbox.reset();
    sandbox.configure({ webhookUrl: receiver.url, suppressReports: true });
    receiver.posts.length = 0;
    await call('POST', SINGLE, msg('+41791234567'));
    await sleep(200);
    expect(receiver.posts).toHaveLength(0);
    expect(sandbox.stats()).toMatchObject({ accepted: 1, reportsPending: 0, reportsSent: 0 });
  });
});

describe('messageParts', () => {
  it('counts GSM-7 and UCS-2 segments', () => {
    expect(messageParts('a'.repeat(160))).toBe(1);
    expect(messageParts('a'.repeat(161))).toBe(2);
    expect(messageParts('a'.repeat(307))).toBe(3);
    expect(messageParts('€'.repeat(80))).toBe(1); // extension chars: two septets each
    expect(messageParts('€'.repeat(81))).toBe(2);
    expect(messageParts('ł'.repeat(70))).toBe(1);
    expect(messageParts('ł'.repeat(71))).toBe(2);
  });
});
