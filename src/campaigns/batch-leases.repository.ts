import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { msInterval, preparedRows, queryRows } from '../database/sql.js';
import type { AccountRow } from '../mitto/traffic-account-credentials.js';
import type { SendMode } from './campaign-batch.entity.js';
import type { BulkSending } from '../tenants/bulk-sending.js';
import type { CanaryState, SendWindowSettings } from '../guard-rails/guard-rails.types.js';

/** Which batch, and which lease on it. */
export interface LeaseRef {
  campaignId: string;
  batch: number;
  token: string;
  /**
   * The batch's job round when it was leased. The release ends the batch (`done`) only if the round is
   * still this one: the sweep that queues `unknown` messages again reopens their batch with a new round,
   * and may do so while a late holder (its lease ran out, nobody took over, it renewed afterwards) still
   * sends; that holder's release must leave the batch pending for the messages queued again.
   */
  round?: number;
}

/** Everything a batch needs to be sent, read in the statement that leases it. */
export interface BatchContext extends AccountRow {
  bulk_sending: BulkSending;
  send_window: SendWindowSettings | null;
  expires_at: Date | null;
  canary_state: CanaryState | null;
  canary_until_seq: number | null;
  /** The campaign has a guard rail judged after outcomes (auto-pause, or a canary still pending). */
  guarded: boolean;
  text: string;
  sender: string;
  batch_size: number;
  mitto_traffic_account_id: string;
}

/** A queued message of a batch, as the batch's lease holder reads it before sending. */
export interface QueuedMessage {
  id: string;
  seq: number;
  phone: string;
  variables: Record<string, string> | null;
  segments: number;
  /** On the tenant's suppression list now: becomes `skipped` instead of being sent. */
  suppressed: boolean;
}

export type LeaseAttempt =
  | { leased: true; context: BatchContext; messages: QueuedMessage[]; interrupted: number; round: number }
  /** done: nothing left; stopped: the campaign is not sending (or this job is of an older generation);
   *  busy: another holder's lease runs until `until`. */
  | { leased: false; reason: 'done' | 'stopped' }
  | { leased: false; reason: 'busy'; until: Date };

/**
 * The marker's verdict: call now; the lease is gone; or the campaign stopped sending while we held it
 * (`campaignStatus` is its status, or `expired` once past its expiresAt).
 */
export type MarkResult = { kind: 'ok' } | { kind: 'lost' } | { kind: 'stopped'; campaignStatus: string };

const INTERRUPTED = `'A worker stopped while this message was being sent'`;

/**
 * SQL of holding a batch (docs/ARCHITECTURE.md, "Batch leases"): taking the lease (and, on a takeover, turning
 * the previous holder's call in flight `unknown`), renewing it, and the write-ahead marker before each Mitto
 * call. A lease is taken only when free or expired, so two workers never send the same message. Results and
 * the lease's end are written by CampaignBatchesRepository.writeOutcomes.
 */
@Injectable()
export class BatchLeasesRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Leases a pending batch of a sending campaign (this job's generation) whose lease is free or expired,
   * in one statement that also reads the batch's context and its queued messages (in seq order, with
   * whether each number is suppressed now). Taking over an expired lease turns the messages of the call
   * its holder had in flight (the marker) into `unknown`: they may have reached Mitto, so they are not
   * among the messages returned.
   */
  async lease(ref: LeaseRef, generation: number, opts: { leaseMs: number; reconcileAfterMs: number }): Promise<LeaseAttempt> {
    const [row] = await preparedRows<BatchContext & {
      leased: number; prev_from: number | null; prev_to: number | null; leased_round: number | null;
      messages: Array<[string, number, string, Record<string, string> | null, number, boolean]> | null;
      campaign_status: string; generation: number; state: string | null; lease_expires_at: Date | null;
    }>(
      this.db,
      'batch_lease',
      `WITH target AS (
         SELECT b.campaign_id, b.batch, b.inflight_from, b.inflight_to, b.lease_token IS NOT NULL AS abandoned, b.xmin AS locked_xmin,
                (SELECT batch_size FROM campaigns WHERE id = $1) AS batch_size, (SELECT tenant_id FROM campaigns WHERE id = $1) AS tenant_id,
                -- most tenants have no suppressions: then no message needs a lookup
                EXISTS (SELECT 1 FROM suppressions s JOIN campaigns c ON c.tenant_id = s.tenant_id WHERE c.id = $1) AS any_suppressed
           FROM campaign_batches b
          WHERE b.campaign_id = $1 AND b.batch = $2 AND b.state = 'pending'
            AND (b.lease_expires_at IS NULL OR b.lease_expires_at <= now())
            AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = b.campaign_id AND c.status = 'sending' AND c.dispatch_generation = $3)
          FOR UPDATE OF b
       ), snapshot_row AS (
         -- The batch row as this statement's snapshot has it. FOR UPDATE above waits for a transaction that
         -- holds the row and then returns the row as that transaction left it, while the messages below are
         -- read as of the snapshot: after a concurrent reopening (the sweep queued an unknown message again)
         -- or a late holder's release, they would be stale, and the lease would send (or skip) the wrong
         -- ones. So the lease is taken only if the row is still the snapshot's; else the job retries at once.
         SELECT xmin AS snapshot_xmin FROM campaign_batches WHERE campaign_id = $1 AND batch = $2
       ), leased AS (
         UPDATE campaign_batches x
            -- an abandoned marker stays until interruptMarker has turned its messages unknown (same statement)
            SET lease_token = $4, lease_expires_at = now() + ${msInterval('$5')},
                -- an abandoned lease may have sent messages without getting to schedule their check
                check_at = CASE WHEN t.abandoned THEN coalesce(x.check_at, now() + ${msInterval('$6')}) ELSE x.check_at END,
                updated_at = now()
           FROM target t WHERE x.campaign_id = t.campaign_id AND x.batch = t.batch
            AND t.locked_xmin = (SELECT snapshot_xmin FROM snapshot_row)
         RETURNING t.inflight_from AS prev_from, t.inflight_to AS prev_to, x.job_round AS leased_round
       ), queued AS (
         -- the abandoned marker's range is left out: it becomes unknown (interruptMarker)
         SELECT json_agg(json_build_array(m.id, m.seq, m.phone, m.variables, m.segments,
                  t.any_suppressed AND EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = t.tenant_id AND s.phone = m.phone)) ORDER BY m.seq) AS list
           FROM target t JOIN campaign_messages m
             ON m.campaign_id = t.campaign_id AND m.seq >= t.batch * t.batch_size AND m.seq < (t.batch + 1) * t.batch_size
          WHERE m.status = 'queued' AND NOT (m.seq >= coalesce(t.inflight_from, 0) AND m.seq < coalesce(t.inflight_to, 0))
       )
       SELECT (SELECT count(*) FROM leased)::int AS leased, (SELECT prev_from FROM leased) AS prev_from, (SELECT prev_to FROM leased) AS prev_to,
              (SELECT leased_round FROM leased) AS leased_round,
              (SELECT list FROM queued) AS messages,
              c.status AS campaign_status, c.dispatch_generation AS generation, c.tenant_id, c.text, c.sender, c.batch_size,
              c.send_window, c.expires_at, c.canary_state, c.canary_until_seq,
              (c.auto_pause IS NOT NULL OR c.canary_state = 'pending') AS guarded,
              a.id AS account_id, a.mitto_traffic_account_id, a.api_key, a.rate_limit_per_second AS account_rps,
              t.rate_limit_per_second AS tenant_rps, t.bulk_sending, b.state, b.lease_expires_at
         FROM campaigns c
         JOIN tenants t ON t.id = c.tenant_id
         LEFT JOIN traffic_accounts a ON a.id = c.traffic_account_id
         LEFT JOIN campaign_batches b ON b.campaign_id = c.id AND b.batch = $2
        WHERE c.id = $1`,
      [ref.campaignId, ref.batch, generation, ref.token, opts.leaseMs, opts.reconcileAfterMs],
    );
    if (!row) return { leased: false, reason: 'stopped' };
    if (row.leased > 0) {
      const messages = (row.messages ?? []).map(([id, seq, phone, variables, segments, suppressed]) => ({ id, seq, phone, variables, segments, suppressed }));
      const interrupted = row.prev_from === null ? 0 : await this.interruptMarker(ref, row.prev_from, row.prev_to!);
      return { leased: true, context: row, messages, interrupted, round: row.leased_round! };
    }
    if (row.campaign_status !== 'sending' || row.generation !== generation) return { leased: false, reason: 'stopped' };
    if (!row.state || row.state === 'done') return { leased: false, reason: 'done' };
    return { leased: false, reason: 'busy', until: new Date(row.lease_expires_at ?? Date.now()) };
  }

  /**
   * A takeover's first step (we hold the lease now): the messages of the call the previous holder had in
   * flight that are still queued become `unknown` — they may have reached Mitto — and the marker goes, in
   * one statement (a crash before it leaves the marker for the next holder). Run only when there is a
   * marker, so an ordinary lease never fires the status trigger.
   */
  private async interruptMarker(ref: LeaseRef, fromSeq: number, toSeq: number): Promise<number> {
    const [row] = await queryRows<{ interrupted: number }>(this.db,
      `WITH moved AS (
         UPDATE campaign_messages SET status = 'unknown', error_code = 'INTERRUPTED', error_message = ${INTERRUPTED}, updated_at = now()
          WHERE campaign_id = $1 AND seq >= $2 AND seq < $3 AND status = 'queued' RETURNING 1
       ), cleared AS (
         UPDATE campaign_batches SET inflight_from = NULL, inflight_to = NULL, unknown_at = coalesce(unknown_at, now()), updated_at = now()
          WHERE campaign_id = $1 AND batch = $4 AND lease_token = $5
       )
       SELECT count(*)::int AS interrupted FROM moved`,
      [ref.campaignId, fromSeq, toSeq, ref.batch, ref.token],
    );
    return row.interrupted;
  }

  /**
   * The write-ahead marker, written right before a Mitto call: the seq range about to be sent. It is also
   * the last check before the call — the lease is still ours (and renewed) and the campaign still sending.
   * "Ours" means our token is still on the row: a lease that ran out (say, through a database outage)
   * and that nobody took over is still ours; a takeover replaces the token.
   */
  async markInFlight(ref: LeaseRef, fromSeq: number, toSeq: number, leaseMs: number, mode: SendMode): Promise<MarkResult> {
    const rows = await preparedRows(this.db, 'batch_mark_in_flight',
      `UPDATE campaign_batches b
          SET inflight_from = $4, inflight_to = $5, lease_expires_at = now() + ${msInterval('$6')}, mode = $7, updated_at = now()
        WHERE b.campaign_id = $1 AND b.batch = $2 AND b.lease_token = $3
          AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $1 AND c.status = 'sending' AND (c.expires_at IS NULL OR c.expires_at > now()))
        RETURNING 1`,
      [ref.campaignId, ref.batch, ref.token, fromSeq, toSeq, leaseMs, mode],
    );
    if (rows.length > 0) return { kind: 'ok' };
    const [state] = await queryRows<{ held: boolean; status: string; expired: boolean }>(this.db,
      `SELECT c.status, c.expires_at IS NOT NULL AND c.expires_at <= now() AS expired,
              EXISTS (SELECT 1 FROM campaign_batches b WHERE b.campaign_id = $1 AND b.batch = $2 AND b.lease_token = $3) AS held
         FROM campaigns c WHERE c.id = $1`,
      [ref.campaignId, ref.batch, ref.token],
    );
    if (!state?.held) return { kind: 'lost' };
    return { kind: 'stopped', campaignStatus: state.expired ? 'expired' : state.status };
  }

  /** Extends the lease while its holder works (timer); false when it is no longer ours (taken over or released). */
  async renew(ref: LeaseRef, leaseMs: number): Promise<boolean> {
    const rows = await preparedRows(this.db, 'batch_renew',
      `UPDATE campaign_batches SET lease_expires_at = now() + ${msInterval('$4')}
        WHERE campaign_id = $1 AND batch = $2 AND lease_token = $3 RETURNING 1`,
      [ref.campaignId, ref.batch, ref.token, leaseMs],
    );
    return rows.length > 0;
  }
}
