import { Injectable } from '@nestjs/common';
import { finished } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { DataSource, type QueryRunner } from 'typeorm';
import { AppError } from '../common/app-error.js';
import { PhoneNumberSet } from '../recipients/phone-number-set.js';
import { statusesAllowing } from './campaign-state.js';
import type { CopyChunk } from './copy-chunk.js';

export interface ChunkOutcome {
  inserted: number;
  /** Rows left out because their number is already in the campaign (written by someone else). */
  duplicates: number;
}

/**
 * The import's writes to `campaign_messages`, on a connection of its own. Each chunk is one
 * transaction that first takes the campaign's row lock (`FOR UPDATE`), which re-checks the
 * campaign's state (an import racing an enqueue lands before it or is refused with 409, never
 * half-sent) and reads `next_seq`. Then:
 *
 * - the chunk's `direct` rows (numbers the importer's filter has certainly not seen before in this
 *   upload, and not suppressed) are `COPY`ed straight into `campaign_messages`: as long as the
 *   campaign holds only this import's rows, the unique index on (campaign_id, phone) has nothing
 *   to refuse. No staging table and no `ON CONFLICT` (speculative insertion cost twice a plain
 *   insert) for the bulk of the rows;
 * - its `checked` rows (the filter's "maybe seen": the repeats and ~1% of false alarms) are
 *   `COPY`ed into a temporary table (no WAL, emptied at every commit) and moved with one
 *   `INSERT … SELECT` that leaves out numbers already in the campaign (an index probe per row) or
 *   earlier in the chunk. So are all rows once the campaign holds rows that are not this
 *   import's (an earlier or a concurrent import), seen as a `next_seq` the importer did not
 *   expect. The lock is taken in a statement of its own, so the INSERT's snapshot sees every row
 *   committed before it; the unique index stays the backstop.
 *
 * seq follows the file's order (gaps where rows were left out). Inserting fires the statement
 * trigger that keeps `campaign_message_counts` (initial migration); COPY fires it too.
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
      const { rows } = await client.query<{ next_seq: number }>(`SELECT next_seq FROM campaigns WHERE id = $1`, [campaignId]);
      if (rows.length === 0) throw AppError.notFound('Campaign');
      const suppressed = await readSuppressions(client, tenantId);
      return new MessageImportSession(runner, client, campaignId, rows[0].next_seq, suppressed);
    } catch (error) {
      await runner.release();
      throw error;
    }
  }
}

export class MessageImportSession {
  /** The campaign holds rows this session did not write (from the start, or seen since). */
  private foreignRows: boolean;

  constructor(
    private readonly runner: QueryRunner,
    private readonly client: PoolClient,
    private readonly campaignId: string,
    /** campaigns.next_seq when the import started: the importer numbers its rows from there. */
    readonly startSeq: number,
    /** The tenant's suppression list when the import started. */
    readonly suppressed: PhoneNumberSet,
  ) {
    this.foreignRows = startSeq > 0;
  }

  /** Stores one chunk in its own transaction. The chunk's buffers may be reused once this resolves. */
  async write(chunk: CopyChunk): Promise<ChunkOutcome> {
    const client = this.client;
    await client.query('BEGIN');
    try {
      const locked = await client.query<{ next_seq: number }>(LOCK_CAMPAIGN, [this.campaignId, statusesAllowing('add-recipients')]);
      if (locked.rows.length === 0) {
        throw new AppError('INVALID_CAMPAIGN_STATE', 'The campaign changed state during the import', { status: 'unknown' });
      }
      const seqBase = locked.rows[0].next_seq;
      if (seqBase !== chunk.seqBase) this.foreignRows = true;
      let inserted = 0;
      let ucs2 = 0;
      // Rows the importer knows to be new go straight in, unless the campaign holds rows it does not know.
      if (chunk.direct.rows > 0 && !this.foreignRows) {
        await this.copy(COPY_MESSAGES, chunk.direct.bytes);
        inserted += chunk.direct.rows;
        ucs2 += chunk.directUcs2;
      }
      const staged = this.foreignRows ? [chunk.direct, chunk.checked] : [chunk.checked];
      if (staged.some((b) => b.rows > 0)) {
        await client.query(CREATE_STAGING);
        for (const buffer of staged) if (buffer.rows > 0) await this.copy(COPY_STAGING, buffer.bytes);
        const { rows } = await client.query<{ inserted: number; ucs2: number }>(MOVE_STAGED, [
          this.campaignId,
          seqBase - chunk.seqBase,
          chunk.ucs2Seqs,
        ]);
        inserted += rows[0].inserted;
        ucs2 += rows[0].ucs2;
      }
      await client.query(UPDATE_CAMPAIGN, [this.campaignId, seqBase + chunk.rows, ucs2, [...chunk.nonGsm]]);
      await client.query('COMMIT');
      return { inserted, duplicates: chunk.rows - inserted };
    } catch (error) {
      // A failed rollback means a dead connection, which the driver has already dropped from the pool.
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.runner.release();
  }

  private async copy(sql: string, bytes: Buffer): Promise<void> {
    const copy = this.client.query(copyFrom(sql));
    copy.end(bytes);
    await finished(copy);
  }
}

/** The tenant's suppressed numbers, streamed (a list can be long) into a compact set. */
async function readSuppressions(client: PoolClient, tenantId: string): Promise<PhoneNumberSet> {
  if (!/^[0-9a-f-]{36}$/i.test(tenantId)) throw new Error('tenant id is not a uuid'); // COPY takes no parameters
  const set = new PhoneNumberSet();
  const out = client.query(copyTo(`COPY (SELECT phone FROM suppressions WHERE tenant_id = '${tenantId}') TO STDOUT`));
  let rest = '';
  for await (const data of out as AsyncIterable<Buffer>) {
    const lines = (rest + data.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const phone of lines) if (E164.test(phone)) set.add(phone);
  }
  return set;
}

/** Stored suppressions are E.164 (as libphonenumber-js writes it); anything else could never match a recipient. */
const E164 = /^\+[1-9]\d{0,19}$/;

const COLUMNS = '(campaign_id, seq, id, phone, variables, segments)';

const COPY_MESSAGES = `COPY campaign_messages ${COLUMNS} FROM STDIN`;

const CREATE_STAGING = `
  CREATE TEMP TABLE IF NOT EXISTS recipients_staging (
    campaign_id uuid NOT NULL,
    seq integer NOT NULL,
    id uuid NOT NULL,
    phone text NOT NULL,
    variables jsonb,
    segments smallint NOT NULL
  ) ON COMMIT DELETE ROWS`;

const COPY_STAGING = `COPY pg_temp.recipients_staging ${COLUMNS} FROM STDIN`;

const LOCK_CAMPAIGN = `SELECT next_seq FROM campaigns WHERE id = $1 AND status = ANY($2) FOR UPDATE`;

/**
 * $1 campaign, $2 shift of the staged seq numbers (non-zero once others wrote to the campaign),
 * $3 staged seq of the chunk's UCS-2 rows. A staged row is inserted unless its number is earlier
 * in the staging table or already in the campaign (including this chunk's direct rows, written
 * earlier in the same transaction). `OFFSET 0` keeps the probe a per-row index lookup: as a hash
 * anti-join, the planner (whose statistics cannot know how many rows an import just added) would
 * read all of the campaign's numbers for every chunk.
 */
const MOVE_STAGED = `
  WITH inserted AS (
    INSERT INTO campaign_messages ${COLUMNS}
    SELECT s.campaign_id, s.seq + $2, s.id, s.phone, s.variables, s.segments
      FROM pg_temp.recipients_staging s
     WHERE NOT EXISTS (SELECT 1 FROM pg_temp.recipients_staging d WHERE d.phone = s.phone AND d.seq < s.seq)
       AND NOT EXISTS (SELECT 1 FROM campaign_messages m WHERE m.campaign_id = $1 AND m.phone = s.phone OFFSET 0)
    RETURNING seq
  )
  SELECT (SELECT count(*) FROM inserted)::int AS inserted,
         (SELECT count(*) FROM inserted i JOIN unnest($3::int[]) AS u(seq) ON i.seq = u.seq + $2)::int AS ucs2`;

const UPDATE_CAMPAIGN = `
  UPDATE campaigns
     SET next_seq = $2,
         ucs2_messages = ucs2_messages + $3,
         non_gsm_characters = ARRAY(SELECT DISTINCT x FROM unnest(non_gsm_characters || $4::text[]) AS x ORDER BY x LIMIT 50),
         updated_at = now()
   WHERE id = $1`;
