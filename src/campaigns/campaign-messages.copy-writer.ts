import { Injectable } from '@nestjs/common';
import { finished } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource, type QueryRunner } from 'typeorm';
import { AppError } from '../common/app-error.js';
import { statusesAllowing } from './campaign-state.js';
import type { CopyChunk } from './copy-chunk.js';

export interface ChunkOutcome {
  inserted: number;
  /** Rows whose number is on the tenant's suppression list (each occurrence counts). */
  suppressed: number;
  /** Rows whose number is already in the campaign or earlier in the upload. */
  duplicates: number;
}

/**
 * The import's writes to `campaign_messages`: each chunk is `COPY`ed into a session-local staging
 * table, then moved with one `INSERT … SELECT` in the same transaction.
 *
 * - Staging is a temporary table (no WAL, private to the connection) created once per pooled
 *   connection and emptied at every commit or rollback (`ON COMMIT DELETE ROWS`).
 * - No `ON CONFLICT` (speculative insertion cost twice a plain insert). Numbers repeated within
 *   the upload come flagged `repeat` (the importer's PhoneNumberSet). Numbers already in the
 *   campaign from elsewhere (an earlier or a concurrent import) are filtered by a probe of
 *   `uq_campaign_messages_campaign_phone` per row, but only once the session has seen that the
 *   campaign holds rows that are not its own: `campaigns.next_seq` is read under the campaign's row
 *   lock and compared with where this session left it. The lock is taken in a statement of its own,
 *   so the INSERT's snapshot sees every row committed before it; the unique index stays the backstop.
 * - The row lock also re-checks the campaign's state, so an import racing an enqueue either lands
 *   before it or is refused (409), never half-sent. seq = next_seq + the row's position in the
 *   chunk: the file's order, with gaps where rows were left out.
 * - Inserting fires the statement trigger that keeps `campaign_message_counts` (initial migration).
 */
@Injectable()
export class CampaignMessagesCopyWriter {
  constructor(private readonly db: DataSource) {}

  /** A session on a connection of its own; close() it in every case. */
  async open(campaignId: string, tenantId: string): Promise<MessageImportSession> {
    const runner = this.db.createQueryRunner();
    // The postgres driver's connection is node-postgres' pooled client, which COPY needs.
    const client: PoolClient = await runner.connect();
    try {
      await client.query(CREATE_STAGING);
    } catch (error) {
      await runner.release();
      throw error;
    }
    return new MessageImportSession(runner, client, campaignId, tenantId);
  }
}

export class MessageImportSession {
  /** campaigns.next_seq after this session's last chunk (0: a campaign without messages). */
  private ownNextSeq = 0;
  private foreignRows = false;

  constructor(
    private readonly runner: QueryRunner,
    private readonly client: PoolClient,
    private readonly campaignId: string,
    private readonly tenantId: string,
  ) {}

  /** Stores one chunk in its own transaction. The chunk's buffer may be reused once this resolves. */
  async write(chunk: CopyChunk): Promise<ChunkOutcome> {
    const client = this.client;
    await client.query('BEGIN');
    try {
      const copy = client.query(copyFrom(COPY_STAGING));
      copy.end(chunk.bytes);
      await finished(copy);
      const locked = await client.query<{ next_seq: number }>(LOCK_CAMPAIGN, [this.campaignId, statusesAllowing('add-recipients')]);
      if (locked.rows.length === 0) {
        throw new AppError('INVALID_CAMPAIGN_STATE', 'The campaign changed state during the import', { status: 'unknown' });
      }
      const seqBase = locked.rows[0].next_seq;
      if (seqBase !== this.ownNextSeq) this.foreignRows = true;
      const { rows } = await client.query<{ inserted: number; suppressed: number }>(this.foreignRows ? MOVE_STAGED_PROBED : MOVE_STAGED, [
        this.campaignId,
        this.tenantId,
        seqBase,
        chunk.rows,
        chunk.ucs2Rows > 0,
        [...chunk.nonGsm],
      ]);
      await client.query('COMMIT');
      this.ownNextSeq = seqBase + chunk.rows;
      const { inserted, suppressed } = rows[0];
      return { inserted, suppressed, duplicates: chunk.rows - inserted - suppressed };
    } catch (error) {
      // A failed rollback means a dead connection, which the driver has already dropped from the pool.
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.runner.release();
  }
}

const CREATE_STAGING = `
  CREATE TEMP TABLE IF NOT EXISTS recipients_staging (
    ord integer NOT NULL,
    id uuid NOT NULL,
    phone text NOT NULL,
    variables jsonb,
    segments smallint NOT NULL,
    ucs2 boolean NOT NULL,
    repeat boolean NOT NULL
  ) ON COMMIT DELETE ROWS`;

const COPY_STAGING = `COPY pg_temp.recipients_staging (ord, id, phone, variables, segments, ucs2, repeat) FROM STDIN`;

const LOCK_CAMPAIGN = `SELECT next_seq FROM campaigns WHERE id = $1 AND status = ANY($2) FOR UPDATE`;

/**
 * $1 campaign, $2 tenant, $3 the campaign's next seq, $4 rows in the chunk, $5 whether any is
 * UCS-2, $6 the chunk's non-GSM characters. `OFFSET 0` keeps the probe a per-row index lookup: as
 * a hash anti-join, the planner (whose statistics cannot know how many rows this very import
 * added) would read all of the campaign's numbers again for every chunk.
 */
function moveStaged(probe: boolean): string {
  return `
  WITH inserted AS (
    INSERT INTO campaign_messages (id, campaign_id, seq, phone, variables, segments)
    SELECT s.id, $1, $3 + s.ord, s.phone, s.variables, s.segments
      FROM pg_temp.recipients_staging s
     WHERE NOT s.repeat
       AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.tenant_id = $2 AND x.phone = s.phone)
       ${probe ? 'AND NOT EXISTS (SELECT 1 FROM campaign_messages m WHERE m.campaign_id = $1 AND m.phone = s.phone OFFSET 0)' : ''}
    RETURNING id
  ), counted AS (
    SELECT (SELECT count(*) FROM inserted)::int AS inserted,
           (SELECT count(*) FROM inserted i JOIN pg_temp.recipients_staging s USING (id) WHERE $5::boolean AND s.ucs2)::int AS ucs2
  ), campaign AS (
    UPDATE campaigns c
       SET next_seq = $3 + $4::int,
           ucs2_messages = c.ucs2_messages + counted.ucs2,
           non_gsm_characters = ARRAY(SELECT DISTINCT x FROM unnest(c.non_gsm_characters || $6::text[]) AS x ORDER BY x LIMIT 50),
           updated_at = now()
      FROM counted
     WHERE c.id = $1
  )
  SELECT counted.inserted,
         (SELECT count(*)::int FROM pg_temp.recipients_staging s
           WHERE EXISTS (SELECT 1 FROM suppressions x WHERE x.tenant_id = $2 AND x.phone = s.phone)) AS suppressed
    FROM counted`;
}

const MOVE_STAGED = moveStaged(false);
const MOVE_STAGED_PROBED = moveStaged(true);
