// The forward-only order of message statuses under delivery statuses: status/delivery-status.ts picks a
// report's target, delivery-status-updates.repository.ts moves a message only up this order.
import type { MessageStatus } from './campaign-message.entity.js';

/** Statuses a delivery status can move a message to. */
export type ReportTarget = Extract<MessageStatus, 'sent' | 'delivered' | 'undelivered'>;

/**
 * Forward-only order of the statuses a report may move. A message moves only to a strictly higher
 * rank, so replays and late reports change nothing. `unknown` ranks below `sent`: a pending report
 * settles an ambiguous send as "Mitto has it". `failed`, `cancelled` and `skipped` are absent: they
 * never move (failed = Mitto never took it; cancelled/skipped = never sent).
 */
export const STATUS_RANK: Readonly<Partial<Record<MessageStatus, number>>> = {
  queued: 0,
  unknown: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
};

/** The same rule as SQL: a CASE giving the rank of `column`, NULL for statuses that never move. */
export function rankSql(column: string): string {
  const whens = Object.entries(STATUS_RANK).map(([status, rank]) => `WHEN '${status}' THEN ${rank}`);
  return `(CASE ${column} ${whens.join(' ')} END)`;
}
