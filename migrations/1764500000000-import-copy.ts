import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cheaper inserts into `campaign_messages` for the COPY-based recipient import (issue 11).
 *
 * The foreign key `campaign_messages.campaign_id → campaigns` is replaced by a delete trigger on
 * `campaigns`. A foreign key checks every inserted message with its own `SELECT … FOR KEY SHARE`
 * on the campaign row (a row-level RI trigger): a quarter of the insert time of a 1M-row import.
 * What it guaranteed still holds:
 * - no message of a campaign that does not exist: messages are only inserted by the import, which
 *   holds the campaign's row lock (`FOR UPDATE`) while it inserts, so the campaign cannot be
 *   deleted under it, and an import that finds the campaign gone inserts nothing;
 * - deleting a campaign deletes its messages: `tr_campaigns_delete_messages` below (what
 *   `ON DELETE CASCADE` did; the counters keep their own cascading foreign key).
 */
export class ImportCopy1764500000000 implements MigrationInterface {
  name = 'ImportCopy1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaign_messages DROP CONSTRAINT fk_campaign_messages_campaign`);
    await q.query(`
      CREATE FUNCTION campaigns_delete_messages() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        DELETE FROM campaign_messages WHERE campaign_id = OLD.id;
        RETURN NULL;
      END $fn$`);
    await q.query(`
      CREATE TRIGGER tr_campaigns_delete_messages AFTER DELETE ON campaigns
      FOR EACH ROW EXECUTE FUNCTION campaigns_delete_messages()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS tr_campaigns_delete_messages ON campaigns`);
    await q.query(`DROP FUNCTION IF EXISTS campaigns_delete_messages()`);
    await q.query(`
      ALTER TABLE campaign_messages ADD CONSTRAINT fk_campaign_messages_campaign
      FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE`);
  }
}
