import { randomUUID } from 'node:crypto';
import { ADMIN_KEY } from './test-app.js';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small HTTP client for the API under test (real HTTP, no in-process shortcuts). */
export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  static admin(baseUrl: string): Api {
    return new Api(baseUrl, { 'x-admin-api-key': ADMIN_KEY });
  }

  static tenant(baseUrl: string, apiKey: string): Api {
    return new Api(baseUrl, { authorization: `Bearer ${apiKey}` });
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const isRaw = typeof body === 'string';
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...this.headers, ...(body !== undefined && !isRaw ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : isRaw ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body, headers);
  }
  patch<T = any>(path: string, body?: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }
}

export interface TenantFixture {
  tenantId: string;
  apiKey: string;
  api: Api;
  trafficAccountId: string;
}

/** Creates a traffic account (unless given) and a tenant with credits; returns the tenant's client. */
export async function createTenant(
  baseUrl: string,
  opts: { credits?: number; subscriptionStatus?: 'active' | 'inactive'; trafficAccountId?: string; rateLimitPerSecond?: number; accountRateLimit?: number } = {},
): Promise<TenantFixture> {
  const admin = Api.admin(baseUrl);
  let trafficAccountId = opts.trafficAccountId;
  if (!trafficAccountId) {
    const acct = await admin.post('/api/admin/traffic-accounts', {
      name: 'test account',
      mittoTrafficAccountId: randomUUID(),
      defaultSender: 'ACME',
      ...(opts.accountRateLimit ? { rateLimitPerSecond: opts.accountRateLimit } : {}),
    });
    if (acct.status !== 201) throw new Error(`traffic account: ${acct.status} ${JSON.stringify(acct.body)}`);
    trafficAccountId = acct.body.id as string;
  }
  const t = await admin.post('/api/admin/tenants', {
    name: `tenant ${randomUUID().slice(0, 6)}`,
    trafficAccountId,
    credits: opts.credits ?? 1_000_000,
    subscriptionStatus: opts.subscriptionStatus ?? 'active',
    ...(opts.rateLimitPerSecond ? { rateLimitPerSecond: opts.rateLimitPerSecond } : {}),
  });
  if (t.status !== 201) throw new Error(`tenant: ${t.status} ${JSON.stringify(t.body)}`);
  return { tenantId: t.body.id, apiKey: t.body.apiKey, api: Api.tenant(baseUrl, t.body.apiKey), trafficAccountId };
}

/** Swiss mobile numbers +4179xxxxxxx, distinct for i < 10^7. */
export function phone(i: number): string {
  return `+4179${String(i).padStart(7, '0')}`;
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Asserts the contract's error response: exact status and `{ error: { code, message, details? } }`. */
export function expectError(res: ApiResponse, status: number, code: string): void {
  const summary = { status: res.status, code: (res.body as any)?.error?.code };
  if (summary.status !== status || summary.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)?.slice(0, 500)}`);
  }
  const error = (res.body as any).error;
  if (typeof error.message !== 'string' || error.message.length === 0) throw new Error(`error.message missing: ${JSON.stringify(res.body)}`);
  const extra = Object.keys(res.body as object).filter((k) => k !== 'error');
  if (extra.length > 0) throw new Error(`unexpected top-level keys in error body: ${extra.join(', ')}`);
  if (error.details !== undefined && (typeof error.details !== 'object' || error.details === null)) {
    throw new Error(`error.details is not an object: ${JSON.stringify(res.body)}`);
  }
}

/** Polls a campaign's status until `pred` holds; returns the last status body. */
export async function waitForCampaign(
  api: Api,
  campaignId: string,
  pred: (body: any) => boolean,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<any> {
  let last: any;
  try {
    return await waitFor(async () => {
      const s = await api.get(`/api/campaigns/${campaignId}/status`);
      last = s.body;
      return pred(s.body) ? s.body : undefined;
    }, timeoutMs, everyMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last)}`, { cause: e });
  }
}

/** Every message of a campaign (all pages). */
export async function allMessages(api: Api, campaignId: string, status?: string): Promise<any[]> {
  const items: any[] = [];
  for (let page = 1; ; page++) {
    const res = await api.get(`/api/campaigns/${campaignId}/messages?limit=500&page=${page}${status ? `&status=${status}` : ''}`);
    if (res.status !== 200) throw new Error(`messages: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.items);
    if (res.body.items.length < 500) return items;
  }
}
