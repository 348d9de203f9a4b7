import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The bulk flow per tenant (`default` follows USE_BULK_SMS; `on`/`off` override it): the brief's gradual rollout. */
export class TenantBulkSending1764450000000 implements MigrationInterface {
  name = 'TenantBulkSending1764450000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tenants ADD COLUMN bulk_sending text NOT NULL DEFAULT 'default',
        ADD CONSTRAINT ck_tenants_bulk_sending CHECK (bulk_sending IN ('default', 'on', 'off'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants DROP COLUMN bulk_sending`);
  }
}
