import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';

import { MITTO_CLIENT_OPTIONS, MittoClient, type MittoClientOptions } from './mitto.client.js';
import type { MittoOutgoingMessage } from './mitto.types.js';

// A tiny Mitto stand-in on 127.0.0.1:0. No mocks of undici: every test goes through real sockets.

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  connectionId: number;
}
type Handler = (req: Recorded, res: ServerResponse, raw: IncomingMessage) => void;

const API_KEY = 'test-api-key-0123456789abcdef';
const TA = '4ae53d46-66d8-4aff-9f13-621f53b90000';

let server: Server;
let baseUrl: string;
let handler: Handler;
let requests: Recorded[];
const connectionIds = new WeakMap<Socket, number>();
let connections = 0;

const clients: MittoClient[] = [];
function makeClient(overrides: Partial<MittoClientOptions> = {}): MittoClient {
  const client = new MittoClient({ baseUrl, connectTimeoutMs: 1_000, requestTimeoutMs: 2_000, maxConnections: 4, ...overrides });
  clients.push(client);
  return client;
}

function msg(i: number): MittoOutgoingMessage {
  return { reference: `ref-${i}`, mittoTrafficAccountId: TA, destination: `+4179123456${i}`, text: `Hi ${i}`, sender: 'ACME' };
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/** Answers every message of a bulk/single body with an id; used as the default handler. */
const acceptAll: Handler = (req, res) => {
  const parsed = JSON.parse(req.body) as { messages?: unknown[] };
  const count = parsed.messages?.length ?? 1;
  reply(res, 200, { bulkId: 'bulk-1', messages: Array.from({ length: count }, (_, i) => ({ messageId: `MID${i}`, trafficAccountId: TA })) });
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = createServer((raw, res) => {
    let body = '';
    raw.setEncoding('utf8');
    raw.on('data', (chunk: string) => (body += chunk));
    raw.on('end', () => {
      const recorded: Recorded = {
        method: raw.method ?? '',
        url: raw.url ?? '',
        headers: raw.headers,
        body,
        connectionId: connectionIds.get(raw.socket) ?? -1,
      };
      requests.push(recorded);
      handler(recorded, res, raw);
    });
  });
  server.on('connection', (socket: Socket) => connectionIds.set(socket, ++connections));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  handler = acceptAll;
  requests = [];
});

afterEach(async () => {
  server.closeAllConnections();
  await Promise.all(clients.splice(0).map((c) => c.onModuleDestroy()));
});

describe('MittoClient over HTTP', () => {
  it('sends a bulk with the API key header and maps the accepted answer', async () => {
    const client = makeClient();
    const outcome = await client.sendBulk(API_KEY, [msg(1), msg(2)]);

    expect(outcome).toEqual({
      kind: 'accepted',
      bulkId: 'bulk-1',
      items: [
        { status: 'accepted', providerMessageId: 'MID0' },
        { status: 'accepted', providerMessageId: 'MID1' },
      ],
    });
    expect(requests).toHaveLength(1);
    const [req] = requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/api/v1.1/Messages/sendmessagesbulk');
    expect(req?.headers['x-mitto-api-key']).toBe(API_KEY);
    expect(req?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req?.body ?? '')).toEqual({
      messages: [
        { trafficAccountId: TA, destination: '+41791234561', sms: { text: 'Hi 1', sender: 'ACME' }, reference: 'ref-1' },
        { trafficAccountId: TA, destination: '+41791234562', sms: { text: 'Hi 2', sender: 'ACME' }, reference: 'ref-2' },
      ],
    });
  });

  it('sends one message to /send with the message as the body', async () => {
    const client = makeClient();
    const outcome = await client.sendOne(API_KEY, msg(7));
    expect(outcome).toEqual({ kind: 'accepted', bulkId: 'bulk-1', items: [{ status: 'accepted', providerMessageId: 'MID0' }] });
    expect(requests[0]?.url).toBe('/api/v1.1/Messages/send');
    expect(requests[0]?.headers['x-mitto-api-key']).toBe(API_KEY);
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({
      trafficAccountId: TA,
      destination: '+41791234567',
      sms: { text: 'Hi 7', sender: 'ACME' },
      reference: 'ref-7',
    });
  });

  it('keeps a path prefix of baseUrl', async () => {
    const client = makeClient({ baseUrl: `${baseUrl}/mitto/` });
    await client.sendOne(API_KEY, msg(1));
    expect(requests[0]?.url).toBe('/mitto/api/v1.1/Messages/send');
  });

  it('reports per-item rejections in request order', async () => {
    handler = (_req, res) =>
      reply(res, 200, { messages: [{ messageId: 'A' }, { errorCode: 'DESTINATION_REJECTED', errorMessage: 'blocked' }, { messageId: 'C' }] });
    const outcome = await makeClient().sendBulk(API_KEY, [msg(1), msg(2), msg(3)]);
    expect(outcome).toEqual({
      kind: 'accepted',
      items: [
        { status: 'accepted', providerMessageId: 'A' },
        { status: 'rejected', errorCode: 'DESTINATION_REJECTED', errorMessage: 'blocked' },
        { status: 'accepted', providerMessageId: 'C' },
      ],
    });
  });

  it('200 with fewer items than messages → ambiguous', async () => {
    handler = (_req, res) => reply(res, 200, { messages: [{ messageId: 'A' }] });
    expect(await makeClient().sendBulk(API_KEY, [msg(1), msg(2)])).toMatchObject({ kind: 'ambiguous', httpStatus: 200 });
  });

  it('429 with Retry-After → retry with retryAfterMs', async () => {
    handler = (_req, res) => reply(res, 429, { message: 'Too many requests' }, { 'retry-after': '2' });
    expect(await makeClient().sendBulk(API_KEY, [msg(1)])).toMatchObject({ kind: 'retry', httpStatus: 429, retryAfterMs: 2000 });
  });

  it('500 → retry', async () => {
    handler = (_req, res) => reply(res, 500, { error: 'internal' });
    expect(await makeClient().sendBulk(API_KEY, [msg(1)])).toMatchObject({ kind: 'retry', httpStatus: 500 });
  });

  it('401 → rejected, and an echoed API key is scrubbed from the reason', async () => {
    handler = (req, res) => reply(res, 401, { message: `invalid key ${String(req.headers['x-mitto-api-key'])}` });
    const outcome = await makeClient().sendBulk(API_KEY, [msg(1)]);
    expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: 401, errorCode: 'HTTP_401' });
    expect(JSON.stringify(outcome)).not.toContain(API_KEY);
  });

  it('502 → ambiguous', async () => {
    handler = (_req, res) => reply(res, 502, 'bad gateway');
    expect(await makeClient().sendBulk(API_KEY, [msg(1)])).toMatchObject({ kind: 'ambiguous', httpStatus: 502 });
  });

  it('a server slower than requestTimeoutMs → ambiguous, within the deadline', async () => {
    handler = () => {
      /* read the request, never answer */
    };
    const started = Date.now();
    const outcome = await makeClient({ requestTimeoutMs: 300 }).sendBulk(API_KEY, [msg(1)]);
    const elapsed = Date.now() - started;
    expect(outcome.kind).toBe('ambiguous');
    expect(outcome.kind === 'ambiguous' && outcome.reason).toMatch(/MITTO_DEADLINE_EXCEEDED/);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('headers in time but a body that never ends → ambiguous for a 2xx', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"messages":[');
    };
    expect(await makeClient({ requestTimeoutMs: 300 }).sendBulk(API_KEY, [msg(1)])).toMatchObject({ kind: 'ambiguous', httpStatus: 200 });
  });

  it('429 headers with a body that never ends → still retry (the status is the verdict)', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'retry-after': '1', 'content-length': '1000' });
      res.write('{"message":"slow');
    };
    expect(await makeClient({ requestTimeoutMs: 300 }).sendBulk(API_KEY, [msg(1)])).toMatchObject({
      kind: 'retry',
      httpStatus: 429,
      retryAfterMs: 1000,
    });
  });

  it('a server that destroys the socket after reading the body → ambiguous', async () => {
    handler = (_req, _res, raw) => raw.socket.destroy();
    const outcome = await makeClient().sendBulk(API_KEY, [msg(1), msg(2)]);
    expect(outcome.kind).toBe('ambiguous');
    expect(requests).toHaveLength(1);
  });

  it('connection refused (closed port) → retry', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const outcome = await makeClient({ baseUrl: `http://127.0.0.1:${port}` }).sendBulk(API_KEY, [msg(1)]);
    expect(outcome.kind).toBe('retry');
    expect(outcome.kind === 'retry' && outcome.reason).toMatch(/ECONNREFUSED/);
  });

  it('unresolvable host → retry', async () => {
    const outcome = await makeClient({ baseUrl: 'http://mitto.invalid' }).sendBulk(API_KEY, [msg(1)]);
    expect(outcome.kind).toBe('retry');
  });

  it('reuses the keep-alive connection for consecutive calls', async () => {
    const client = makeClient();
    await client.sendBulk(API_KEY, [msg(1)]);
    await client.sendOne(API_KEY, msg(2));
    expect(requests).toHaveLength(2);
    expect(requests[0]?.connectionId).toBeGreaterThan(0);
    expect(requests[1]?.connectionId).toBe(requests[0]?.connectionId);
  });

  it('a call whose deadline passes while queued for a connection → retry, and is never sent', async () => {
    let first = true;
    handler = (_req, res) => {
      if (first) {
        first = false; // hold the only connection
        return;
      }
      acceptAll(_req, res, undefined as never);
    };
    const client = makeClient({ maxConnections: 1, requestTimeoutMs: 300 });
    const [a, b] = await Promise.all([client.sendBulk(API_KEY, [msg(1)]), client.sendBulk(API_KEY, [msg(2)])]);
    expect(a.kind).toBe('ambiguous');
    expect(b.kind).toBe('retry');
    await sleep(200); // the queued request reaches a socket after the first is aborted: it must not be written
    expect(requests).toHaveLength(1);
    expect(JSON.parse(requests[0]?.body ?? '')).toMatchObject({ messages: [{ reference: 'ref-1' }] });
  });

  it('an API key that is not a valid header value → rejected locally, nothing sent', async () => {
    const outcome = await makeClient().sendBulk('bad\r\nkey', [msg(1)]);
    expect(outcome).toMatchObject({ kind: 'rejected', httpStatus: 0 });
    expect(JSON.stringify(outcome)).not.toContain('bad\r\nkey');
    expect(requests).toHaveLength(0);
  });

  it('an empty bulk makes no call', async () => {
    expect(await makeClient().sendBulk(API_KEY, [])).toEqual({ kind: 'accepted', items: [] });
    expect(requests).toHaveLength(0);
  });

  it('after onModuleDestroy a send → retry (never sent)', async () => {
    const client = makeClient();
    await client.onModuleDestroy();
    expect(await client.sendBulk(API_KEY, [msg(1)])).toMatchObject({ kind: 'retry' });
    expect(requests).toHaveLength(0);
  });
});

describe('MittoClient.getMessage', () => {
  it('found', async () => {
    handler = (_req, res) => reply(res, 200, { messageId: 'ID/1', deliveryStatus: 'Delivered', reference: 'ref-1' });
    const lookup = await makeClient().getMessage(API_KEY, 'ID/1');
    expect(lookup).toEqual({ kind: 'found', message: { messageId: 'ID/1', deliveryStatus: 'Delivered', reference: 'ref-1' } });
    expect(requests[0]?.method).toBe('GET');
    expect(requests[0]?.url).toBe('/api/v1.1/Messages/ID%2F1');
    expect(requests[0]?.headers['x-mitto-api-key']).toBe(API_KEY);
  });

  it('404 → not-found', async () => {
    handler = (_req, res) => reply(res, 404, { message: 'not found' });
    expect(await makeClient().getMessage(API_KEY, 'X')).toEqual({ kind: 'not-found' });
  });

  it('503 → retryable error; socket destroyed → retryable error', async () => {
    handler = (_req, res) => reply(res, 503, 'down');
    expect(await makeClient().getMessage(API_KEY, 'X')).toMatchObject({ kind: 'error', retryable: true });
    handler = (_req, _res, raw) => raw.socket.destroy();
    expect(await makeClient().getMessage(API_KEY, 'X')).toMatchObject({ kind: 'error', retryable: true });
  });
});

describe('MittoClient with Nest DI', () => {
  it('is injected with MITTO_CLIENT_OPTIONS', async () => {
    const ref = await Test.createTestingModule({
      providers: [
        MittoClient,
        { provide: MITTO_CLIENT_OPTIONS, useValue: { baseUrl, connectTimeoutMs: 500, requestTimeoutMs: 1_000, maxConnections: 2 } },
      ],
    }).compile();
    const client = ref.get(MittoClient);
    expect(await client.sendOne(API_KEY, msg(1))).toMatchObject({ kind: 'accepted' });
    await ref.close(); // runs onModuleDestroy
  });

  it('rejects invalid options at construction', () => {
    expect(() => new MittoClient({ baseUrl: 'ftp://x', connectTimeoutMs: 1, requestTimeoutMs: 1, maxConnections: 1 })).toThrow(/http/);
    expect(() => new MittoClient({ baseUrl, connectTimeoutMs: 0, requestTimeoutMs: 1, maxConnections: 1 })).toThrow(/connectTimeoutMs/);
  });
});
