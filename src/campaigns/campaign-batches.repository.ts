import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { msInterval, preparedRows, queryRows } from '../database/sql.js';
import type { LeaseRef } from './batch-leases.repository.js';
import type { MessageStatus } from './campaign-message.entity.js';

/** One message's outcome, addressed by its seq in the campaign. */
export interface MessageOutcome {
  seq: number;
  status: Extract<MessageStatus, 'sent' | 'failed' | 'unknown' | 'skipped'>;
  providerMessageId?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
}

/** A pending batch and the round of its current job (see jobIds.batch). */
export interface PendingBatch {
  batch: number;
  jobRound: number;
}

/**
 * SQL of the sending state machine on batches: their rows, and the statements that move a batch's messages
 * out of `queued` (results, cancel/expiry walks; unknown settlement is in batch-recovery.repository.ts). The
 * rule they share with the leases (batch-leases.repository.ts): only the holder of a batch's lease moves
 * that batch's queued messages — so a walk never races a Mitto call.
 */
@Injectable()
export class CampaignBatchesRepository {
  constructor(private readonly db: DataSource) {}

  /** One pending row per batch, at enqueue (O(batches), in the enqueue transaction). */
  async createBatches(tx: EntityManager, campaignId: string, batchCount: number): Promise<void> {
    await tx.query(
      `INSERT INTO campaign_batches (campaign_id, batch) SELECT $1, g FROM generate_series(0, $2 - 1) g
       ON CONFLICT (campaign_id, batch) DO UPDATE SET state = 'pending', updated_at = now()`,
      [campaignId, batchCount],
    );
  }

  /** Pending batches from `fromBatch` on, in order (ix_campaign_batches_pending). */
  async pendingFrom(campaignId: string, fromBatch: number, limit: number): Promise<PendingBatch[]> {
    return queryRows<PendingBatch>(this.db,
      `SELECT batch, job_round AS "jobRound" FROM campaign_batches
        WHERE campaign_id = $1 AND state = 'pending' AND batch >= $2 ORDER BY batch LIMIT $3`,
      [campaignId, fromBatch, limit],
    );
  }

  /**
   * Writes outcomes — each message from `queued` to its outcome in this one statement — and, with
   * `release`, ends the lease in the same statement. The batch row is touched only when something changes
   * there: the release, the first `sent` (schedules its reconciliation), the first `unknown` (the policy
   * will settle it). Outcomes are written even when the lease was lost meanwhile (a known outcome is never
   * thrown away): a message a successor already moved to `unknown` gets its real outcome, while the
   * successor's lease is left alone.
   */
  async writeOutcomes(
    ref: LeaseRef,
    outcomes: MessageOutcome[],
    meta: { bulkId: string | null; attempt: number; reconcileAfterMs: number },
    release?: { done: boolean; notBefore?: Date | 'held' | null },
  ): Promise<{ written: number; canaryPassed: boolean; providerIdRepeated: boolean }> {
    const anySent = outcomes.some((o) => o.status === 'sent');
    const anyUnknown = outcomes.some((o) => o.status === 'unknown');
    const dense = denseOutcomes(outcomes);
    const params = [
      ref.campaignId,
      ref.batch,
      ref.token,
      dense.first,
      JSON.stringify(dense.status),
      JSON.stringify(dense.providerId),
      JSON.stringify(dense.errorCode),
      JSON.stringify(dense.errorMessage),
      meta.bulkId,
      meta.attempt,
      release !== undefined,
      release?.done ?? false,
      anySent,
      anyUnknown,
      meta.reconcileAfterMs,
      release?.notBefore === 'held' ? 'infinity' : (release?.notBefore?.toISOString() ?? null),
      ref.round ?? null,
    ];
    type Row = { written: number; canary_passed: boolean };
    try {
      const [row] = await preparedRows<Row>(this.db, 'batch_write_outcomes', RESULT_WRITE_SQL, params);
      return { written: row.written, canaryPassed: row.canary_passed, providerIdRepeated: false };
    } catch (e) {
      // A provider id we hold already: the statement did nothing, and is made again with the insert that
      // skips what exists. Any unique violation counts, not only the key's name (a partitioned table's
      // would differ): one that is not about provider ids fails the second form too, and reaches the caller.
      if ((e as { code?: unknown })?.code !== UNIQUE_VIOLATION) throw e;
      const [row] = await preparedRows<Row>(this.db, 'batch_write_outcomes_dedup', RESULT_WRITE_DEDUP_SQL, params);
      return { written: row.written, canaryPassed: row.canary_passed, providerIdRepeated: true };
    }
  }

  /**
   * Moves the queued messages of every batch in [fromBatch, toBatch) that nobody holds to `status`
   * (`cancelled`, `expired`), leaving held batches to their holders; the marker of an abandoned lease still becomes
   * `unknown`. One statement per chunk; callers walk a campaign once, by batch number.
   */
  async settleFreeBatches(campaignId: string, fromBatch: number, toBatch: number, status: 'cancelled' | 'expired', code: string): Promise<{ batches: number; messages: number }> {
    const [row] = await queryRows<{ batches: number; messages: number }>(this.db,
      `WITH target AS (
         SELECT b.batch, b.inflight_from, b.inflight_to FROM campaign_batches b
          WHERE b.campaign_id = $1 AND b.state = 'pending' AND b.batch >= $2 AND b.batch < $3
            AND (b.lease_expires_at IS NULL OR b.lease_expires_at <= now())
          FOR UPDATE SKIP LOCKED
       ), size AS (SELECT batch_size FROM campaigns WHERE id = $1), ${settleSql('target', '$1', '$4', '$5')}
       SELECT (SELECT count(*) FROM closed)::int AS batches, (SELECT count(*) FROM moved)::int AS messages`,
      [campaignId, fromBatch, toBatch, status, code],
    );
    return row;
  }

  /** Batches held behind a canary (not_before = infinity) may be leased again: it passed, or the user resumed. */
  async releaseCanaryHold(campaignId: string): Promise<void> {
    await this.db.query(`UPDATE campaign_batches SET not_before = NULL WHERE campaign_id = $1 AND not_before = 'infinity'`, [campaignId]);
  }
}

/**
 * The result write (CampaignBatchesRepository.writeOutcomes). The outcomes come as JSON arrays indexed
 * by seq - $4 (the first seq), and the messages are found by one range scan of (campaign_id, seq) with no
 * join: no join order or method for statistics to get wrong. Joined to unnest(seqs) instead, a campaign
 * imported into a table not analysed since was read whole for every write (~0.7 s per write of 100 at 20k
 * recipients). jsonb, not text[]: an element of a jsonb array is found in constant time, one of a text[]
 * by walking the array from its start.
 *
 * The provider ids go into campaign_message_provider_ids by a plain INSERT. It records an id only for a
 * message it moves out of `queued`/`unknown`, and a delivery report that recorded the id first (matched by
 * our reference) has moved the message already. So a conflict here means that Mitto's answers disagree:
 * one id given for two messages, or a report whose reference named another message than the send's
 * answer did. `ON CONFLICT DO NOTHING` would cost every row a speculative insertion (an index probe
 * before, a second WAL record after) for that rare case (docs/PERFORMANCE.md, "Result write, taken
 * apart", times both forms). A write that does conflict fails whole, changing nothing, and is made again
 * in the form with it (`dedup`); the caller logs it and counts it.
 */
function resultWriteSql(dedup: boolean): string {
  return `WITH written AS (
         UPDATE campaign_messages m
            SET status = ($5::jsonb) ->> (m.seq - $4),
                provider_message_id = coalesce(($6::jsonb) ->> (m.seq - $4), m.provider_message_id),
                bulk_id = CASE WHEN ($5::jsonb) ->> (m.seq - $4) = 'sent' THEN $9 ELSE m.bulk_id END,
                error_code = ($7::jsonb) ->> (m.seq - $4), error_message = ($8::jsonb) ->> (m.seq - $4),
                sent_at = CASE WHEN ($5::jsonb) ->> (m.seq - $4) = 'sent' THEN now() ELSE m.sent_at END,
                retry_count = $10, updated_at = now()
          WHERE m.campaign_id = $1 AND m.seq >= $4::int AND m.seq < $4::int + jsonb_array_length($5::jsonb)
            AND ($5::jsonb) ->> (m.seq - $4) IS NOT NULL AND m.status IN ('queued', 'unknown')
         RETURNING m.id, m.status, m.provider_message_id
       ), provider_ids AS (
         INSERT INTO campaign_message_provider_ids (provider_message_id, message_id)
         SELECT provider_message_id, id FROM written WHERE status = 'sent' AND provider_message_id IS NOT NULL
${dedup ? '         ON CONFLICT DO NOTHING\n' : ''}       ), canary AS (
         -- Only when this release holds messages behind the canary: is it still pending? The share lock
         -- waits for a pass in progress and reads its result (then nothing is held); a pass that comes
         -- later waits for us and clears what we wrote (openCanaryGate).
         SELECT canary_state = 'pending' AS pending FROM campaigns WHERE id = $1 AND $16::timestamptz = 'infinity' FOR SHARE
       ), batch AS (
         UPDATE campaign_batches b
            SET lease_token = CASE WHEN $11 AND b.lease_token = $3 THEN NULL ELSE b.lease_token END,
                lease_expires_at = CASE WHEN $11 AND b.lease_token = $3 THEN NULL ELSE b.lease_expires_at END,
                inflight_from = CASE WHEN $11 AND b.lease_token = $3 THEN NULL ELSE b.inflight_from END,
                inflight_to = CASE WHEN $11 AND b.lease_token = $3 THEN NULL ELSE b.inflight_to END,
                -- not done if the batch was reopened (a new round) while we held it: LeaseRef.round
                state = CASE WHEN $11 AND $12 AND b.lease_token = $3 AND ($17::int IS NULL OR b.job_round = $17) THEN 'done' ELSE b.state END,
                -- messages left waiting (their send window, behind the canary): not leased before this
                not_before = CASE WHEN $11 AND b.lease_token = $3
                                  THEN CASE WHEN $16::timestamptz = 'infinity' AND NOT coalesce((SELECT pending FROM canary), false) THEN NULL ELSE $16::timestamptz END
                                  ELSE b.not_before END,
                first_sent_at = CASE WHEN $13 THEN coalesce(b.first_sent_at, now()) ELSE b.first_sent_at END,
                check_at = CASE WHEN $13 THEN coalesce(b.check_at, now() + ${msInterval('$15')}) ELSE b.check_at END,
                unknown_at = CASE WHEN $14 THEN coalesce(b.unknown_at, now()) ELSE b.unknown_at END,
                updated_at = now()
          WHERE b.campaign_id = $1 AND b.batch = $2
            AND (($11 AND b.lease_token = $3) OR ($13 AND b.check_at IS NULL) OR ($14 AND b.unknown_at IS NULL))
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM written)::int AS written,
              coalesce($16::timestamptz = 'infinity' AND NOT coalesce((SELECT pending FROM canary), false), false) AS canary_passed`;
}
const RESULT_WRITE_SQL = resultWriteSql(false);
const RESULT_WRITE_DEDUP_SQL = resultWriteSql(true);

const UNIQUE_VIOLATION = '23505';

/**
 * CTEs `closed` (the target batches → done, lease ended) and `moved` (their queued messages → status, or
 * `unknown` inside an abandoned marker), given a CTE `target(batch, inflight_from, inflight_to)`.
 */
function settleSql(target: string, campaign: string, status: string, code: string): string {
  return `closed AS (
      UPDATE campaign_batches x
         SET state = 'done', lease_token = NULL, lease_expires_at = NULL, inflight_from = NULL, inflight_to = NULL,
             unknown_at = CASE WHEN t.inflight_from IS NOT NULL THEN coalesce(x.unknown_at, now()) ELSE x.unknown_at END,
             updated_at = now()
        FROM ${target} t WHERE x.campaign_id = ${campaign} AND x.batch = t.batch
      RETURNING 1
    ), moved AS (
      UPDATE campaign_messages m
         SET status = CASE WHEN m.seq >= t.inflight_from AND m.seq < t.inflight_to THEN 'unknown' ELSE ${status} END,
             error_code = CASE WHEN m.seq >= t.inflight_from AND m.seq < t.inflight_to THEN 'INTERRUPTED' ELSE ${code} END,
             updated_at = now()
        FROM ${target} t, size s
       WHERE m.campaign_id = ${campaign} AND m.seq >= t.batch * s.batch_size AND m.seq < (t.batch + 1) * s.batch_size
         AND m.status = 'queued'
      RETURNING 1
    )`;
}

/**
 * Outcomes as arrays indexed by seq - first (a batch's seqs are one short range), sent to the result
 * write as JSON: a seq without an outcome has null status and is not written. An empty list gives empty
 * arrays (nothing is written).
 */
export function denseOutcomes(outcomes: readonly MessageOutcome[]): {
  first: number;
  status: Array<string | null>;
  providerId: Array<string | null>;
  errorCode: Array<string | null>;
  errorMessage: Array<string | null>;
} {
  if (outcomes.length === 0) return { first: 0, status: [], providerId: [], errorCode: [], errorMessage: [] };
  let first = outcomes[0].seq;
  let last = first;
  for (const o of outcomes) {
    if (o.seq < first) first = o.seq;
    if (o.seq > last) last = o.seq;
  }
  const size = last - first + 1;
  const dense = {
    first,
    status: new Array<string | null>(size).fill(null),
    providerId: new Array<string | null>(size).fill(null),
    errorCode: new Array<string | null>(size).fill(null),
    errorMessage: new Array<string | null>(size).fill(null),
  };
  for (const o of outcomes) {
    const i = o.seq - first;
    dense.status[i] = o.status;
    dense.providerId[i] = jsonSafe(o.providerMessageId);
    dense.errorCode[i] = jsonSafe(o.errorCode);
    dense.errorMessage[i] = o.errorMessage ? jsonSafe(o.errorMessage.slice(0, 1000)) : null;
  }
  return dense;
}

/**
 * A string PostgreSQL's jsonb accepts: JSON.stringify writes a lone UTF-16 surrogate (a provider's
 * answer can carry one, and cutting a message at 1,000 code units can split a pair) and NUL as `\u`
 * escapes, which jsonb refuses, and the whole result write would fail (not as a transient error: the
 * batch's known outcomes would be lost to a takeover). Both become U+FFFD: a lone surrogate did so too
 * when these strings went to PostgreSQL as text; a NUL failed the write then as well.
 */
export function jsonSafe(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd').replaceAll('\u0000', '\ufffd');
}
