import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApp, type TestApp } from './support/test-app.js';
import { createTenant, type TenantFixture } from './support/api.js';

const DASHBOARD = 'https://dashboard.example.com';
const ELSEWHERE = 'https://evil.example.net';

/** Security headers, CORS for the dashboard, and keep-alive behind a load balancer. */
describe('HTTP surface', () => {
  let app: TestApp;
  let tenant: TenantFixture;

  beforeAll(async () => {
    app = await startApp({ CORS_ORIGINS: `${DASHBOARD}, http://localhost:5173` }, 'api');
    tenant = await createTenant(app.url);
  });
  afterAll(async () => {
    await app?.close();
  });

  describe('security headers', () => {
    it.each([
      ['an answer', '/api/me', 200],
      ['an error', '/api/campaigns/00000000-0000-4000-8000-000000000000', 404],
      ['a refused key', '/api/me', 401],
      ['Swagger UI', '/api/docs', 200],
    ])('on %s: nosniff, a same-origin CSP, no X-Powered-By', async (_, path, status) => {
      const res = await fetch(`${app.url}${path}`, { headers: status === 401 ? {} : { authorization: `Bearer ${tenant.apiKey}` } });
      expect(res.status).toBe(status);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-powered-by')).toBeNull();
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/default-src 'self'/);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toMatch(/object-src 'none'/);
      expect(csp).not.toMatch(/upgrade-insecure-requests/);
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string) =>
      fetch(`${app.url}/api/campaigns`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
    const corsHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith('access-control-'));

    it('answers a dashboard origin\'s preflight, allowing the Authorization header, without credentials', async () => {
      const res = await preflight(DASHBOARD);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
      expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/authorization/);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/Origin/i);
    });

    it('lets the dashboard read answers and the limit headers', async () => {
      const res = await fetch(`${app.url}/api/me`, { headers: { origin: DASHBOARD, authorization: `Bearer ${tenant.apiKey}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
      expect(res.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
      expect(res.headers.get('access-control-expose-headers')).toMatch(/RateLimit-Remaining/);
    });

    it('gives any other origin no CORS header at all', async () => {
      const pre = await preflight(ELSEWHERE);
      expect(corsHeaders(pre)).toEqual([]);
      expect(pre.status).toBe(404);
      const res = await fetch(`${app.url}/api/me`, { headers: { origin: ELSEWHERE, authorization: `Bearer ${tenant.apiKey}` } });
      expect(res.status).toBe(200);
      expect(corsHeaders(res)).toEqual([]);
      // An origin is matched exactly, not by prefix or suffix.
      expect(corsHeaders(await preflight(`${DASHBOARD}.evil.net`))).toEqual([]);
      expect(corsHeaders(await preflight('http://dashboard.example.com'))).toEqual([]);
    });

    it('with CORS_ORIGINS unset, no origin gets CORS headers', async () => {
      const plain = await startApp({}, 'api');
      try {
        const pre = await fetch(`${plain.url}/api/campaigns`, { method: 'OPTIONS', headers: { origin: DASHBOARD, 'access-control-request-method': 'GET' } });
        expect(corsHeaders(pre)).toEqual([]);
        const res = await fetch(`${plain.url}/health/live`, { headers: { origin: DASHBOARD } });
        expect(corsHeaders(res)).toEqual([]);
      } finally {
        await plain.close();
      }
    });
  });

  describe('keep-alive behind a load balancer', () => {
    it('keeps idle connections longer than a balancer\'s 60 s idle timeout, and says so', async () => {
      const server = app.app.getHttpServer() as import('node:http').Server;
      expect(server.keepAliveTimeout).toBe(75_000);
      expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
      const res = await fetch(`${app.url}/health/live`);
      expect(res.headers.get('keep-alive')).toBe('timeout=75');
    });

    it('tens of keep-alive connections, idle past Node\'s default 5 s, serve again with no request failing on a closed socket', async () => {
      const CONNECTIONS = 40;
      const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS, maxFreeSockets: CONNECTIONS, timeout: 120_000 });
      const sockets = new Set<Socket>();
      let closedByServer = 0;
      const get = (path: string) =>
        new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
          const req = request(`${app.url}${path}`, { agent, headers: { authorization: `Bearer ${tenant.apiKey}` } }, (res: IncomingMessage) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          });
          req.on('socket', (s: Socket) => {
            if (sockets.has(s)) return;
            sockets.add(s);
            s.on('close', () => closedByServer++);
          });
          req.on('error', reject);
          req.end();
        });
      try {
        const round = () => Promise.all(Array.from({ length: CONNECTIONS }, () => get('/api/me')));
        const first = await round();
        expect(first.every((r) => r.status === 200)).toBe(true);
        expect(sockets.size).toBe(CONNECTIONS);

        await sleep(6_000); // Node's default keepAliveTimeout (5 s) would have closed them all by now
        expect(closedByServer).toBe(0);

        const second = await round();
        expect(second.map((r) => r.status)).toEqual(Array(CONNECTIONS).fill(200));
        expect(second.filter((r) => r.reused).length).toBe(CONNECTIONS);
        // A dashboard-like burst over the same connections.
        const burst = await Promise.all(Array.from({ length: 200 }, (_, i) => get(i % 2 ? '/api/me' : '/api/campaigns')));
        expect(burst.filter((r) => r.status !== 200)).toEqual([]);
        expect(sockets.size).toBe(CONNECTIONS);
        expect(closedByServer).toBe(0);
      } finally {
        agent.destroy();
      }
    }, 30_000);
  });
});
