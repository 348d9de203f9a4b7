import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Message retention (MESSAGE_RETENTION_DAYS, docs/OPERATIONS.md "Retention"): the per-message rows of a
 * campaign settled longer ago than the retention are deleted in the background, in bounded chunks; the
 * campaign row, its counters (`campaign_message_counts`) and the credit ledger stay.
 * - `messages_purged_at`: set when the purge of a campaign begins. From then on the API lists none of its
 *   messages and says so (`messagesPurgedAt`), also while the chunks are still being deleted.
 * - `messages_purge_done`: every message, provider-id and batch row of the campaign is gone.
 * - `ix_campaigns_purge`: the purge's only scan of campaigns — settled and not yet purged, by settle time —
 *   so its cost follows the campaigns inside the retention window, not the deployment's history.
 * No trigger fires on DELETE from `campaign_messages` (counters and credits follow INSERT and UPDATE only,
 * see the initial and batch-leases migrations), so deleting messages changes no count and no credit.
 */
export class MessageRetention1764700000000 implements MigrationInterface {
  name = 'MessageRetention1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaigns ADD COLUMN messages_purged_at timestamptz, ADD COLUMN messages_purge_done boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX ix_campaigns_purge ON campaigns (settled_at) WHERE settled_at IS NOT NULL AND NOT messages_purge_done`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_campaigns_purge`);
    await q.query(`ALTER TABLE campaigns DROP COLUMN messages_purged_at, DROP COLUMN messages_purge_done`);
  }
}
