import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CREDITS_LOOP_BODY, statusMovedFunction } from './1764400000000-batch-leases.js';

const CHARGED = `('sent', 'delivered', 'undelivered')`;
const REFUNDED = `('failed', 'cancelled', 'skipped', 'expired')`;

/**
 * The status trigger reads its transition tables once. It keeps the same books as before (counters per
 * status, the campaign's and the tenant's reserved credits, the ledger; docs/ARCHITECTURE.md "Credits"),
 * but the credits are now derived from the per-status movement the counters already computed, instead of
 * a second pass over `old_rows` and `new_rows`: a status's net movement of segments is exactly its share
 * of the debit (charged statuses) or the refund (refunded ones). Every result write of a send fires it;
 * `npm run bench -- result-write` times it (docs/PERFORMANCE.md, "Result write, taken apart").
 */
export class StatusTriggerOnePass1764800000000 implements MigrationInterface {
  name = 'StatusTriggerOnePass1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION campaign_messages_status_moved() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        r record;
        v_tenant uuid;
        v_cps integer;
        v_balance bigint;
        v_reserved bigint;
      BEGIN
        FOR r IN
          WITH moved AS (
            SELECT campaign_id, status, sum(d) AS d, sum(s) AS s FROM (
              SELECT campaign_id, status, -count(*) AS d, -sum(segments) AS s FROM old_rows GROUP BY campaign_id, status
              UNION ALL
              SELECT campaign_id, status, count(*), sum(segments) FROM new_rows GROUP BY campaign_id, status
            ) x
            GROUP BY campaign_id, status
          ), counted AS (
            INSERT INTO campaign_message_counts AS c (campaign_id, status, messages, segments)
            SELECT campaign_id, status, d, s FROM moved WHERE d <> 0 OR s <> 0 ORDER BY campaign_id, status
            ON CONFLICT (campaign_id, status)
            DO UPDATE SET messages = c.messages + EXCLUDED.messages, segments = c.segments + EXCLUDED.segments
          ), credits AS (
            SELECT campaign_id,
                   coalesce(sum(s) FILTER (WHERE status IN ${CHARGED}), 0) AS debit,
                   coalesce(sum(s) FILTER (WHERE status IN ${REFUNDED}), 0) AS refund
              FROM moved GROUP BY campaign_id
          )
          SELECT campaign_id, debit, refund FROM credits WHERE debit <> 0 OR refund <> 0 ORDER BY campaign_id
        LOOP
${CREDITS_LOOP_BODY}        END LOOP;
        RETURN NULL;
      END $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The two-pass function as the guard-rails migration left it.
    await q.query(statusMovedFunction(['queued', 'unknown'], ['failed', 'cancelled', 'skipped', 'expired']));
  }
}
