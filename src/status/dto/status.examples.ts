import { CAMPAIGN_STATUS } from '../../campaigns/dto/campaign.examples.js';
import type { DeliveryReportsResultView, RefreshStatusView } from './status.dto.js';

/** Example bodies and answers of the status endpoints for the OpenAPI document. */

export const REFRESH_RESULT: RefreshStatusView = { checked: 120, updated: 97, notFound: 1, errors: 0, remaining: 0, metrics: CAMPAIGN_STATUS.metrics };

const event = (name: string) => `event: ${name}\ndata: ${JSON.stringify(CAMPAIGN_STATUS)}\n\n`;
export const EVENTS_EXAMPLE = `${event('status')}: heartbeat\n\n${event('status')}`;

export const DELIVERY_REPORT = {
  messageId: 'c7a5c2f1-3d0e-4b8a-9a51-2f1e0f6c1d42',
  deliveryStatus: 'Delivered',
  description: 'Delivered to handset',
  updatedAt: '2026-03-02T09:00:09.000Z',
  reference: '01a22b33-7a4e-71f0-8bb0-3a4a6a56a372',
};

export const DELIVERY_REPORTS_RESULT: DeliveryReportsResultView = { received: 2, updated: 2, unknown: 0, invalid: 0 };
