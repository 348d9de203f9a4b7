import { MESSAGE_STATUSES, type MessageStatus } from './campaign-message.entity.js';
import type { MetricsView } from './dto/campaign.dto.js';

/**
 * A campaign's messages per status (the `metrics` of the REST views, `MetricsView`). Not to be confused with
 * the Prometheus metrics of `metrics/`.
 */
export type MessageCounts = MetricsView;

/** Counts from the rows of `campaign_message_counts`; `total` is by construction the sum of the buckets. */
export function messageCounts(rows: Array<{ status: string; messages: string | number }>): MessageCounts {
  const m = Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0])) as Record<MessageStatus, number>;
  for (const row of rows) {
    if (row.status in m) m[row.status as MessageStatus] = Number(row.messages);
  }
  const total = MESSAGE_STATUSES.reduce((sum, s) => sum + m[s], 0);
  return { total, ...m };
}

/** Messages with an outcome (no longer queued), as a share of all. */
export function progressOf(m: MessageCounts): number {
  if (m.total === 0) return 0;
  return (m.total - m.queued) / m.total;
}
