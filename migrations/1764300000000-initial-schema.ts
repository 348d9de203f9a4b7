import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole initial schema. Hot-path notes (1M-message campaigns):
 * - a batch is a `seq` range of one campaign, so claiming it walks `uq_campaign_messages_campaign_seq`
 *   and never the rows other batches already claimed;
 * - `campaign_message_counts` holds per-status counts (and segment sums), kept in step by statement-level
 *   triggers, so status/metrics and enqueue never `COUNT(*)` a campaign;
 * - the same trigger moves reserved credits to debited/refunded when messages change status, so credits
 *   can never drift from message states (see docs/ARCHITECTURE.md, "Credits").
 */
export class InitialSchema1764300000000 implements MigrationInterface {
  name = 'InitialSchema1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE traffic_accounts (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL,
        mitto_traffic_account_id uuid NOT NULL,
        api_key text,
        default_sender text NOT NULL,
        rate_limit_per_second integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_traffic_accounts PRIMARY KEY (id),
        CONSTRAINT ck_traffic_accounts_rate_limit CHECK (rate_limit_per_second IS NULL OR rate_limit_per_second > 0)
      )`);
    await q.query(`
      CREATE TABLE tenants (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL,
        api_key_hash char(64) NOT NULL,
        api_key_prefix text NOT NULL,
        subscription_status text NOT NULL DEFAULT 'active',
        credit_balance bigint NOT NULL DEFAULT 0,
        credit_reserved bigint NOT NULL DEFAULT 0,
        rate_limit_per_second integer,
        traffic_account_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_tenants PRIMARY KEY (id),
        CONSTRAINT uq_tenants_api_key_hash UNIQUE (api_key_hash),
        CONSTRAINT fk_tenants_traffic_account FOREIGN KEY (traffic_account_id) REFERENCES traffic_accounts (id),
        CONSTRAINT ck_tenants_subscription_status CHECK (subscription_status IN ('active', 'inactive')),
        CONSTRAINT ck_tenants_credit_balance CHECK (credit_balance >= 0),
        CONSTRAINT ck_tenants_credit_reserved CHECK (credit_reserved >= 0),
        CONSTRAINT ck_tenants_rate_limit CHECK (rate_limit_per_second IS NULL OR rate_limit_per_second > 0)
      )`);
    await q.query(`
      CREATE TABLE campaigns (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        text text NOT NULL,
        sender text,
        status text NOT NULL DEFAULT 'draft',
        scheduled_at timestamptz,
        started_at timestamptz,
        completed_at timestamptz,
        traffic_account_id uuid,
        next_seq integer NOT NULL DEFAULT 0,
        batch_size integer,
        batch_count integer NOT NULL DEFAULT 0,
        dispatched_batches integer NOT NULL DEFAULT 0,
        dispatch_generation integer NOT NULL DEFAULT 0,
        credits_held boolean NOT NULL DEFAULT false,
        credits_reserved bigint NOT NULL DEFAULT 0,
        credits_per_segment integer NOT NULL DEFAULT 1,
        ucs2_messages integer NOT NULL DEFAULT 0,
        non_gsm_characters text[] NOT NULL DEFAULT '{}',
        last_activity_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_campaigns PRIMARY KEY (id),
        CONSTRAINT fk_campaigns_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id),
        CONSTRAINT fk_campaigns_traffic_account FOREIGN KEY (traffic_account_id) REFERENCES traffic_accounts (id),
        CONSTRAINT ck_campaigns_status CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'completed', 'failed', 'cancelled')),
        CONSTRAINT ck_campaigns_credits_reserved CHECK (credits_reserved >= 0),
        CONSTRAINT ck_campaigns_batch_size CHECK (batch_size IS NULL OR batch_size > 0)
      )`);
    await q.query(`CREATE INDEX ix_campaigns_tenant_created ON campaigns (tenant_id, created_at DESC, id)`);
    await q.query(`CREATE INDEX ix_campaigns_active ON campaigns (status) WHERE status IN ('scheduled', 'sending')`);

    await q.query(`
      CREATE TABLE campaign_messages (
        id uuid NOT NULL,
        campaign_id uuid NOT NULL,
        seq integer NOT NULL,
        phone text NOT NULL,
        variables jsonb,
        segments smallint NOT NULL,
        status text NOT NULL DEFAULT 'queued',
        provider_message_id text,
        bulk_id text,
        retry_count smallint NOT NULL DEFAULT 0,
        claim_token uuid,
        claimed_at timestamptz,
        provider_status text,
        error_code text,
        error_message text,
        sent_at timestamptz,
        delivered_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_campaign_messages PRIMARY KEY (id),
        CONSTRAINT fk_campaign_messages_campaign FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE,
        CONSTRAINT uq_campaign_messages_campaign_seq UNIQUE (campaign_id, seq),
        CONSTRAINT uq_campaign_messages_campaign_phone UNIQUE (campaign_id, phone),
        CONSTRAINT ck_campaign_messages_status CHECK (status IN
          ('queued', 'sending', 'sent', 'unknown', 'delivered', 'undelivered', 'failed', 'cancelled', 'skipped'))
      ) WITH (fillfactor = 90)`);
    await q.query(`CREATE INDEX ix_campaign_messages_provider_id ON campaign_messages (provider_message_id) WHERE provider_message_id IS NOT NULL`);
    // Messages whose outcome is not final yet: refresh, reconciliation and the claim sweeper read only these.
    await q.query(`CREATE INDEX ix_campaign_messages_unsettled ON campaign_messages (campaign_id, seq) WHERE status IN ('sending', 'sent', 'unknown')`);

    await q.query(`
      CREATE TABLE campaign_message_counts (
        campaign_id uuid NOT NULL,
        status text NOT NULL,
        messages bigint NOT NULL DEFAULT 0,
        segments bigint NOT NULL DEFAULT 0,
        CONSTRAINT pk_campaign_message_counts PRIMARY KEY (campaign_id, status),
        CONSTRAINT fk_campaign_message_counts_campaign FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE credit_ledger (
        id bigint GENERATED ALWAYS AS IDENTITY,
        tenant_id uuid NOT NULL,
        campaign_id uuid,
        kind text NOT NULL,
        amount bigint NOT NULL,
        balance_after bigint NOT NULL,
        reserved_after bigint NOT NULL,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_credit_ledger PRIMARY KEY (id),
        CONSTRAINT fk_credit_ledger_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id),
        CONSTRAINT fk_credit_ledger_campaign FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE SET NULL,
        CONSTRAINT ck_credit_ledger_kind CHECK (kind IN ('topup', 'reserve', 'debit', 'refund')),
        CONSTRAINT ck_credit_ledger_amount CHECK (amount > 0)
      )`);
    await q.query(`CREATE INDEX ix_credit_ledger_tenant ON credit_ledger (tenant_id, id)`);
    await q.query(`CREATE INDEX ix_credit_ledger_campaign ON credit_ledger (campaign_id) WHERE campaign_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE suppressions (
        tenant_id uuid NOT NULL,
        phone text NOT NULL,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT pk_suppressions PRIMARY KEY (tenant_id, phone),
        CONSTRAINT fk_suppressions_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE FUNCTION campaign_messages_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        INSERT INTO campaign_message_counts AS c (campaign_id, status, messages, segments)
        SELECT campaign_id, status, count(*), sum(segments) FROM new_rows
        GROUP BY campaign_id, status ORDER BY campaign_id, status
        ON CONFLICT (campaign_id, status)
        DO UPDATE SET messages = c.messages + EXCLUDED.messages, segments = c.segments + EXCLUDED.segments;
        RETURN NULL;
      END $fn$`);
    await q.query(`
      CREATE TRIGGER tr_campaign_messages_count_inserted AFTER INSERT ON campaign_messages
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_messages_count_inserted()`);

    // Status moves: counters follow, and credits held for a campaign move from "reserved" to "debited"
    // (the provider took the message) or back to the balance ("refund": never sent). Reserved-class
    // statuses are queued, sending and unknown; sent/delivered/undelivered are charged;
    // failed/cancelled/skipped are refunded. Lock order: counts -> campaign -> tenant (as in enqueue).
    await q.query(`
      CREATE FUNCTION campaign_messages_status_moved() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        r record;
        v_tenant uuid;
        v_cps integer;
        v_balance bigint;
        v_reserved bigint;
      BEGIN
        INSERT INTO campaign_message_counts AS c (campaign_id, status, messages, segments)
        SELECT campaign_id, status, sum(d), sum(s) FROM (
          SELECT n.campaign_id, o.status, -1 AS d, -o.segments AS s
            FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE o.status <> n.status
          UNION ALL
          SELECT n.campaign_id, n.status, 1, n.segments
            FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE o.status <> n.status
        ) moved
        GROUP BY campaign_id, status HAVING sum(d) <> 0 OR sum(s) <> 0 ORDER BY campaign_id, status
        ON CONFLICT (campaign_id, status)
        DO UPDATE SET messages = c.messages + EXCLUDED.messages, segments = c.segments + EXCLUDED.segments;

        FOR r IN
          SELECT n.campaign_id,
                 coalesce(sum(n.segments) FILTER (WHERE n.status IN ('sent', 'delivered', 'undelivered')), 0) AS debit,
                 coalesce(sum(n.segments) FILTER (WHERE n.status IN ('failed', 'cancelled', 'skipped')), 0) AS refund
            FROM old_rows o JOIN new_rows n ON n.id = o.id
           WHERE o.status IN ('queued', 'sending', 'unknown')
             AND n.status NOT IN ('queued', 'sending', 'unknown')
           GROUP BY n.campaign_id ORDER BY n.campaign_id
        LOOP
          UPDATE campaigns
             SET credits_reserved = credits_reserved - (r.debit + r.refund) * credits_per_segment,
                 last_activity_at = now()
           WHERE id = r.campaign_id AND credits_held
          RETURNING tenant_id, credits_per_segment INTO v_tenant, v_cps;
          CONTINUE WHEN v_tenant IS NULL;
          UPDATE tenants
             SET credit_reserved = credit_reserved - (r.debit + r.refund) * v_cps,
                 credit_balance = credit_balance + r.refund * v_cps
           WHERE id = v_tenant
          RETURNING credit_balance, credit_reserved INTO v_balance, v_reserved;
          IF r.debit > 0 THEN
            INSERT INTO credit_ledger (tenant_id, campaign_id, kind, amount, balance_after, reserved_after, reason)
            VALUES (v_tenant, r.campaign_id, 'debit', r.debit * v_cps, v_balance, v_reserved, 'messages sent');
          END IF;
          IF r.refund > 0 THEN
            INSERT INTO credit_ledger (tenant_id, campaign_id, kind, amount, balance_after, reserved_after, reason)
            VALUES (v_tenant, r.campaign_id, 'refund', r.refund * v_cps, v_balance, v_reserved, 'messages not sent');
          END IF;
          v_tenant := NULL;
        END LOOP;
        RETURN NULL;
      END $fn$`);
    await q.query(`
      CREATE TRIGGER tr_campaign_messages_status_moved AFTER UPDATE ON campaign_messages
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_messages_status_moved()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS tr_campaign_messages_status_moved ON campaign_messages`);
    await q.query(`DROP TRIGGER IF EXISTS tr_campaign_messages_count_inserted ON campaign_messages`);
    await q.query(`DROP FUNCTION IF EXISTS campaign_messages_status_moved()`);
    await q.query(`DROP FUNCTION IF EXISTS campaign_messages_count_inserted()`);
    for (const table of ['suppressions', 'credit_ledger', 'campaign_message_counts', 'campaign_messages', 'campaigns', 'tenants', 'traffic_accounts']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
