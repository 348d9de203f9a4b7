import { messageCounts } from '../message-counts.js';
import type { CampaignPageView, CampaignStatusView, CampaignView, EstimateView, MessagePageView, MessageView } from './campaign.dto.js';
import type { ImportResultView } from './recipients.dto.js';

/**
 * Example bodies and answers for the OpenAPI document (what Swagger UI pre-fills and the dashboard team
 * reads). Shapes come from the views; the metrics buckets from the same function the API uses, so an
 * example never lists a bucket the API does not have.
 */

export const CAMPAIGN_ID = 'ecbd299c-8834-4e8e-a94b-1e8b829ff03e';

const TEXT = 'Hi {{name}}, 20% off everything until Sunday. Reply STOP to opt out.';

const SENDING_METRICS = messageCounts([
  { status: 'queued', messages: 6200 },
  { status: 'sent', messages: 1400 },
  { status: 'delivered', messages: 12300 },
  { status: 'undelivered', messages: 40 },
  { status: 'failed', messages: 25 },
  { status: 'skipped', messages: 35 },
]);

export const DRAFT_CAMPAIGN: CampaignView = {
  id: CAMPAIGN_ID,
  name: 'Spring sale',
  text: TEXT,
  sender: 'ACME',
  status: 'draft',
  scheduledAt: null,
  startedAt: null,
  completedAt: null,
  createdAt: '2026-03-01T16:20:00.000Z',
  updatedAt: '2026-03-01T16:20:00.000Z',
  sendWindow: { start: '09:00', end: '20:00', days: [1, 2, 3, 4, 5, 6], timeZone: 'recipient' },
  expiresAt: '2026-03-04T20:00:00.000Z',
  autoPause: { maxFailureRate: 0.2, minMessages: 100 },
  canary: { size: 200, minDeliveredRate: 0.9, waitSeconds: 600 },
  pauseReason: null,
  canaryState: null,
  messagesPurgedAt: null,
  metrics: messageCounts([]),
};

export const SCHEDULED_CAMPAIGN: CampaignView = {
  ...DRAFT_CAMPAIGN,
  status: 'scheduled',
  scheduledAt: '2026-03-02T09:00:00.000Z',
  updatedAt: '2026-03-01T16:25:00.000Z',
  metrics: messageCounts([{ status: 'queued', messages: 20000 }]),
};

export const SENDING_CAMPAIGN: CampaignView = {
  ...SCHEDULED_CAMPAIGN,
  status: 'sending',
  startedAt: '2026-03-02T09:00:01.000Z',
  updatedAt: '2026-03-02T09:03:12.000Z',
  canaryState: 'passed',
  metrics: SENDING_METRICS,
};

export const PAUSED_CAMPAIGN: CampaignView = { ...SENDING_CAMPAIGN, status: 'paused', pauseReason: 'USER', updatedAt: '2026-03-02T09:03:30.000Z' };

export const CANCELLED_CAMPAIGN: CampaignView = {
  ...SENDING_CAMPAIGN,
  status: 'cancelled',
  completedAt: '2026-03-02T09:04:00.000Z',
  updatedAt: '2026-03-02T09:04:00.000Z',
  metrics: messageCounts([
    { status: 'cancelled', messages: 6200 },
    { status: 'sent', messages: 1400 },
    { status: 'delivered', messages: 12300 },
    { status: 'undelivered', messages: 40 },
    { status: 'failed', messages: 25 },
    { status: 'skipped', messages: 35 },
  ]),
};

export const CAMPAIGN_STATUS: CampaignStatusView = {
  campaign: SENDING_CAMPAIGN,
  metrics: SENDING_METRICS,
  progress: 0.69,
  creditsReserved: 7600,
  sendMode: 'bulk',
};

export const CAMPAIGN_PAGE: CampaignPageView = { items: [SENDING_CAMPAIGN], total: 1, page: 1, limit: 50 };

const MESSAGE: MessageView = {
  id: '01a22b33-7a4e-71f0-8bb0-3a4a6a56a372',
  phone: '+41791234567',
  status: 'delivered',
  providerMessageId: 'c7a5c2f1-3d0e-4b8a-9a51-2f1e0f6c1d42',
  bulkId: '5e1f6a2b-8c3d-4e9f-a0b1-c2d3e4f5a6b7',
  retryCount: 0,
  errorCode: null,
  errorMessage: null,
  sentAt: '2026-03-02T09:00:02.000Z',
  deliveredAt: '2026-03-02T09:00:09.000Z',
};

export const MESSAGE_PAGE: MessagePageView = {
  items: [
    MESSAGE,
    {
      ...MESSAGE,
      id: '01a22b33-7a56-723b-ab2d-8a5c7e2b977e',
      phone: '+41791234568',
      status: 'failed',
      providerMessageId: null,
      errorCode: 'REJECTED',
      errorMessage: 'Invalid destination',
      deliveredAt: null,
    },
  ],
  total: 20000,
  page: 1,
  limit: 50,
  messagesPurgedAt: null,
};

export const ESTIMATE: EstimateView = { recipients: 19965, segments: 19965, credits: 19965, encoding: 'GSM-7', nonGsmCharacters: [], skipped: 35 };

export const IMPORT_RESULT: ImportResultView = {
  accepted: 2,
  duplicates: 0,
  suppressed: 0,
  invalid: 1,
  invalidSamples: [{ row: 3, phone: '12', reason: 'TOO_SHORT' }],
};

export const CREATE_CAMPAIGN_BODY = { name: 'Spring sale', text: TEXT, sender: 'ACME' };
/** The same campaign with every guard rail (api-contract.md, "Campaign guard rails"). */
export const CREATE_GUARDED_CAMPAIGN_BODY = {
  ...CREATE_CAMPAIGN_BODY,
  sendWindow: { start: '09:00', end: '20:00', days: [1, 2, 3, 4, 5, 6], timeZone: 'recipient' },
  expiresAt: '2026-03-04T20:00:00.000Z',
  autoPause: { maxFailureRate: 0.2, minMessages: 100 },
  canary: { size: 200, minDeliveredRate: 0.9, waitSeconds: 600 },
};
export const UPDATE_CAMPAIGN_BODY = { text: 'Hi {{name}}, 25% off everything until Sunday. Reply STOP to opt out.' };
export const SCHEDULE_BODY = { scheduledAt: '2026-03-02T09:00:00.000Z' };
export const RECIPIENTS_JSON_BODY = {
  recipients: [
    { phone: '+41791234567', variables: { name: 'Anna' } },
    { phone: '079 123 45 68', variables: { name: 'Ben' } },
    { phone: '12' },
  ],
};
export const RECIPIENTS_CSV_BODY = 'phone,name\n+41791234567,Anna\n079 123 45 68,Ben\n12,\n';
