import { Api as HarnessApi, createTenant as createTenantThroughAdmin, waitFor, type ApiResponse } from '../../scripts/lib/harness.mjs';
import { ADMIN_KEY } from './test-app.js';

export { waitFor, type ApiResponse };

/** A small HTTP client for the API under test (real HTTP, no in-process shortcuts). */
export class Api extends HarnessApi {
  static admin(baseUrl: string): Api {
    return new Api(baseUrl, { 'x-admin-api-key': ADMIN_KEY });
  }

  static tenant(baseUrl: string, apiKey: string): Api {
    return new Api(baseUrl, { authorization: `Bearer ${apiKey}` });
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
  const t = await createTenantThroughAdmin(baseUrl, ADMIN_KEY, {
    trafficAccountId: opts.trafficAccountId,
    account: { rateLimitPerSecond: opts.accountRateLimit },
    credits: opts.credits ?? 1_000_000,
    subscriptionStatus: opts.subscriptionStatus ?? 'active',
    rateLimitPerSecond: opts.rateLimitPerSecond,
  });
  return { tenantId: t.tenantId, apiKey: t.apiKey, api: Api.tenant(baseUrl, t.apiKey), trafficAccountId: t.trafficAccountId };
}

/** Swiss mobile numbers +4179xxxxxxx, distinct for i < 10^7. */
export function phone(i: number): string {
  return `+4179${String(i).padStart(7, '0')}`;
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
