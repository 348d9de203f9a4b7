import { MESSAGE_STATUSES, type MessageStatus } from './campaign-message.entity.js';
import type { MetricsView } from './dto/campaign.dto.js';

export type Metrics = MetricsView;

/** Metrics from the per-status counters; `total` is by construction the sum of the buckets. */
export function metricsFromCounts(rows: Array<{ status: string; messages: string | number }>): Metrics {
  const m = Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0])) as Record<MessageStatus, number>;
  for (const row of rows) {
    if (row.status in m) m[row.status as MessageStatus] = Number(row.messages);
  }
  const total = MESSAGE_STATUSES.reduce((sum, s) => sum + m[s], 0);
  return { total, ...m };
}

/** Messages with an outcome (no longer queued), as a share of all. */
export function progressOf(m: Metrics): number {
  if (m.total === 0) return 0;
  return (m.total - m.queued) / m.total;
}
