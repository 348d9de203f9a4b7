import type { CreatedTenantView, CreditsView, TenantView, TrafficAccountView } from './admin.dto.js';

/** Example bodies and answers of the admin and tenant endpoints for the OpenAPI document. */

export const TRAFFIC_ACCOUNT: TrafficAccountView = {
  id: '48718ae3-2cba-4f1a-80ff-1880d48ac310',
  name: 'Main account',
  mittoTrafficAccountId: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
  defaultSender: 'ACME',
  rateLimitPerSecond: 100,
  hasOwnApiKey: true,
  createdAt: '2026-03-01T15:00:00.000Z',
};

export const TENANT: TenantView = {
  id: 'db685202-7df9-4869-bf2a-89b31e56eade',
  name: 'Acme Retail',
  subscriptionStatus: 'active',
  credits: { balance: 50000, reserved: 0 },
  rateLimitPerSecond: null,
  trafficAccountId: TRAFFIC_ACCOUNT.id,
  bulkSending: 'default',
  bulkSendingEffective: true,
  createdAt: '2026-03-01T15:05:00.000Z',
};

/** A made-up key of the real format: `sk_` and 32 URL-safe characters. */
export const CREATED_TENANT: CreatedTenantView = { ...TENANT, apiKey: 'sk_EXAMPLEonlyEXAMPLEonlyEXAMPLEon' };

export const CREDITS: CreditsView = { balance: 60000, reserved: 7600 };

export const CREATE_TRAFFIC_ACCOUNT_BODY = {
  name: 'Main account',
  mittoTrafficAccountId: TRAFFIC_ACCOUNT.mittoTrafficAccountId,
  apiKey: '<the Mitto API key of this account>',
  defaultSender: 'ACME',
  rateLimitPerSecond: 100,
};
export const UPDATE_TRAFFIC_ACCOUNT_BODY = { rateLimitPerSecond: 50 };
export const CREATE_TENANT_BODY = { name: 'Acme Retail', trafficAccountId: TRAFFIC_ACCOUNT.id, subscriptionStatus: 'active', credits: 50000 };
export const UPDATE_TENANT_BODY = { subscriptionStatus: 'inactive' };
export const ROLLOUT_TENANT_BODY = { bulkSending: 'on' };
export const TOP_UP_BODY = { amount: 10000, reason: 'March invoice 2026-0142' };
