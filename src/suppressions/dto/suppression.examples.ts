import type { SuppressionPageView, SuppressionView } from './suppression.dto.js';

/** Example bodies and answers of the suppression list for the OpenAPI document. */

export const SUPPRESSION: SuppressionView = { phone: '+41791112233', reason: 'Replied STOP', createdAt: '2026-03-02T10:14:00.000Z' };
export const SUPPRESSION_PAGE: SuppressionPageView = { items: [SUPPRESSION], total: 1, page: 1, limit: 50 };
export const ADD_SUPPRESSION_BODY = { phone: '079 111 22 33', reason: 'Replied STOP' };
