import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startApp, ADMIN_KEY, type TestApp } from './support/test-app.js';
import { createTenant, type TenantFixture } from './support/api.js';

/**
 * What a person sees in a real browser (headless Chromium, driven by playwright-core): Swagger UI renders
 * under our Content-Security-Policy and its "Authorize" works for both key schemes, and the dashboard's
 * origin can call the API cross-origin while another origin cannot. Runs where Chromium is installed
 * (.ci/run installs Debian's `chromium`); the same CORS rules are checked without a browser in
 * http-surface.e2e-spec.ts.
 */
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(
  (p): p is string => !!p && existsSync(p),
);
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-sync', '--disable-component-update'];

/** A page server standing in for the dashboard, on an origin of its own. */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><title>dashboard</title><p>dashboard'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

(CHROMIUM ? describe : describe.skip)('in headless Chromium', () => {
  let browser: Browser;
  let app: TestApp;
  let tenant: TenantFixture;
  let dashboard: { server: Server; origin: string };
  let stranger: { server: Server; origin: string };

  beforeAll(async () => {
    dashboard = await pageServer();
    stranger = await pageServer();
    app = await startApp({ CORS_ORIGINS: dashboard.origin }, 'api');
    tenant = await createTenant(app.url);
    // playwright gives every launch a fresh, temporary profile (--user-data-dir).
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    for (const s of [dashboard, stranger]) s?.server.close();
  });

  /** A page that records console errors (CSP violations are reported there) and uncaught exceptions. */
  async function page(): Promise<{ page: Page; problems: string[] }> {
    const p = await browser.newPage();
    const problems: string[] = [];
    p.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    p.on('pageerror', (e) => problems.push(e.message));
    return { page: p, problems };
  }

  it('Swagger UI renders under the CSP, and Authorize works for the tenant key and the admin key', async () => {
    const { page: p, problems } = await page();
    await p.goto(`${app.url}/api/docs`);
    await p.waitForSelector('.opblock', { timeout: 20_000 });
    expect(await p.locator('.info .title').first().textContent()).toMatch(/Bulk SMS campaigns API/);
    expect(await p.locator('.opblock').count()).toBeGreaterThanOrEqual(30);

    await p.locator('button.authorize').first().click();
    const scheme = (name: string) => p.locator('.auth-container').filter({ hasText: new RegExp(`^${name}\\b`) });
    await scheme('tenant').locator('input').fill(tenant.apiKey);
    await scheme('tenant').locator('button.authorize').click();
    await scheme('admin').locator('input').fill(ADMIN_KEY);
    await scheme('admin').locator('button.authorize').click();
    // Both schemes now show as authorised (Swagger UI swaps "Authorize" for "Logout").
    expect(await p.locator('.auth-container button.authorize').count()).toBe(1); // only the webhook secret is left
    await p.locator('.modal-ux button.btn-done').first().click();

    /** Opens an operation, presses "Try it out" and "Execute", and returns the request the page sent. */
    async function execute(operationId: string, tag: string, path: string) {
      const op = p.locator(`#operations-${tag}-${operationId}`);
      await op.locator('.opblock-summary').first().click();
      await op.locator('button.try-out__btn').click();
      const [response] = await Promise.all([
        p.waitForResponse((r) => new URL(r.url()).pathname === path),
        op.locator('button.execute').click(),
      ]);
      await op.locator('.live-responses-table tbody .response-col_status').first().waitFor();
      return { status: response.status(), headers: response.request().headers(), shown: await op.locator('.live-responses-table tbody .response-col_status').first().textContent() };
    }

    const me = await execute('meGet', 'tenant', '/api/me');
    expect(me.status).toBe(200);
    expect(me.headers.authorization).toBe(`Bearer ${tenant.apiKey}`);
    expect(me.shown?.trim()).toBe('200');

    const tenants = await execute('adminListTenants', 'admin', '/api/admin/tenants');
    expect(tenants.status).toBe(200);
    expect(tenants.headers['x-admin-api-key']).toBe(ADMIN_KEY);
    expect(tenants.shown?.trim()).toBe('200');

    expect(problems).toEqual([]);
    await p.close();
  }, 60_000);

  it('a page on the dashboard\'s origin calls the API with its key; a page on another origin cannot', async () => {
    const callApi = (p: Page) =>
      p.evaluate(
        async ({ api, key }) => {
          try {
            const res = await fetch(`${api}/api/me`, { headers: { Authorization: `Bearer ${key}` } });
            return { status: res.status, id: ((await res.json()) as { id: string }).id, remaining: res.headers.get('RateLimit-Remaining') };
          } catch (e) {
            return { failed: String(e) };
          }
        },
        { api: app.url, key: tenant.apiKey },
      );

    const { page: onDashboard } = await page();
    await onDashboard.goto(dashboard.origin);
    const allowed = await callApi(onDashboard);
    expect(allowed).toMatchObject({ status: 200, id: tenant.tenantId });
    // The limit headers are exposed to the dashboard's script.
    expect(Number((allowed as { remaining: string }).remaining)).toBeGreaterThan(0);

    const { page: elsewhere, problems } = await page();
    await elsewhere.goto(stranger.origin);
    expect(await callApi(elsewhere)).toEqual({ failed: expect.stringMatching(/Failed to fetch/) });
    expect(problems.join('\n')).toMatch(/CORS policy/);
    await onDashboard.close();
    await elsewhere.close();
  }, 60_000);
});
