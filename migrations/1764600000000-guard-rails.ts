import type { MigrationInterface, QueryRunner } from 'typeorm';
import { statusMovedFunction } from './1764400000000-batch-leases.js';

/**
 * Campaign guard rails (docs/ARCHITECTURE.md, "Guard rails"): send windows in the recipient's zone,
 * expiry, auto-pause on a failure rate, and a canary.
 * - campaigns: the settings (jsonb, validated by the API), `pause_reason`, the canary's state and
 *   boundary (`canary_until_seq`: the messages with a smaller seq are the canary), and the two
 *   checkpoints of the failure-rate window (`failure_window`).
 * - campaign_batches.not_before: a batch whose messages all wait (for their window, or behind the
 *   canary) is not leased before this; recovery and the sweep leave it alone until then.
 * - message status `expired` (not handed to Mitto before `expires_at`; refunded like `cancelled`).
 */
export class GuardRails1764600000000 implements MigrationInterface {
  name = 'GuardRails1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE campaigns
        ADD COLUMN send_window jsonb,
        ADD COLUMN expires_at timestamptz,
        ADD COLUMN auto_pause jsonb,
        ADD COLUMN canary jsonb,
        ADD COLUMN pause_reason text,
        ADD COLUMN canary_state text,
        ADD COLUMN canary_until_seq integer,
        ADD COLUMN canary_messages integer,
        ADD COLUMN canary_sent_at timestamptz,
        ADD COLUMN failure_window jsonb,
        ADD CONSTRAINT ck_campaigns_pause_reason CHECK (pause_reason IS NULL OR pause_reason IN ('USER', 'FAILURE_RATE', 'CANARY_FAILED')),
        ADD CONSTRAINT ck_campaigns_canary_state CHECK (canary_state IS NULL OR canary_state IN ('pending', 'passed', 'failed'))`);
    await q.query(`UPDATE campaigns SET pause_reason = 'USER' WHERE status = 'paused'`);
    await q.query(`ALTER TABLE campaign_batches ADD COLUMN not_before timestamptz`);
    await q.query(`ALTER TABLE campaign_messages DROP CONSTRAINT ck_campaign_messages_status`);
    await q.query(`
      ALTER TABLE campaign_messages ADD CONSTRAINT ck_campaign_messages_status CHECK (status IN
        ('queued', 'sent', 'unknown', 'delivered', 'undelivered', 'failed', 'cancelled', 'skipped', 'expired'))`);
    await q.query(statusMovedFunction(['queued', 'unknown'], ['failed', 'cancelled', 'skipped', 'expired']));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(statusMovedFunction(['queued', 'unknown']));
    await q.query(`UPDATE campaign_messages SET status = 'cancelled' WHERE status = 'expired'`);
    await q.query(`ALTER TABLE campaign_messages DROP CONSTRAINT ck_campaign_messages_status`);
    await q.query(`
      ALTER TABLE campaign_messages ADD CONSTRAINT ck_campaign_messages_status CHECK (status IN
        ('queued', 'sent', 'unknown', 'delivered', 'undelivered', 'failed', 'cancelled', 'skipped'))`);
    await q.query(`ALTER TABLE campaign_batches DROP COLUMN not_before`);
    await q.query(`
      ALTER TABLE campaigns DROP COLUMN send_window, DROP COLUMN expires_at, DROP COLUMN auto_pause, DROP COLUMN canary,
        DROP COLUMN pause_reason, DROP COLUMN canary_state, DROP COLUMN canary_until_seq, DROP COLUMN canary_messages,
        DROP COLUMN canary_sent_at, DROP COLUMN failure_window`);
  }
}
