import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { ConfigService } from '@nestjs/config';
import { DataSource, type EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import type { AppConfig } from '../config/app.config.js';
import { MessageTemplate } from '../recipients/message-template.js';
import { PhoneNormalizer } from '../recipients/phone-number.js';
import { evaluateRecipientRow, type RawRecipient } from '../recipients/recipient-row.js';
import { countSegments } from '../recipients/sms-segments.js';
import { AppError } from '../common/app-error.js';
import { CampaignMessagesRepository, type NewMessageRow } from './campaign-messages.repository.js';
import type { Campaign } from './campaign.entity.js';
import { statusesAllowing } from './campaign-state.js';

export interface InvalidSample {
  row: number;
  phone: string;
  reason: string;
}

export interface ImportResult {
  accepted: number;
  duplicates: number;
  suppressed: number;
  invalid: number;
  invalidSamples: InvalidSample[];
}

const CHUNK = 5_000;
const MAX_SAMPLES = 100;

/**
 * Imports recipients from any row source (JSON body or streamed CSV) in chunks of 5,000: each chunk
 * is validated in memory (phone to E.164, placeholders, segments) and written with one INSERT while
 * the next chunk is parsed, so a 1M-row file never sits in memory. Message ids are UUIDv7
 * (time-ordered), which keeps the primary-key index append-only.
 */
@Injectable()
export class RecipientsImportService {
  private readonly phones: PhoneNormalizer;

  constructor(
    private readonly db: DataSource,
    private readonly messageRows: CampaignMessagesRepository,
    config: ConfigService<AppConfig, true>,
  ) {
    this.phones = new PhoneNormalizer(config.get('recipients', { infer: true }).defaultRegion);
  }

  async import(campaign: Campaign, rows: AsyncIterable<RawRecipient | { row: number; error: string }> | Iterable<RawRecipient>): Promise<ImportResult> {
    const template = MessageTemplate.parse(campaign.text);
    const result: ImportResult = { accepted: 0, duplicates: 0, suppressed: 0, invalid: 0, invalidSamples: [] };
    let chunk: NewMessageRow[] = [];
    let chunkNonGsm = new Set<string>();
    let inFlight: Promise<void> | undefined;

    // At most one chunk is being written while the next one is parsed and validated.
    const flush = async () => {
      const rowsToWrite = chunk;
      const chars = [...chunkNonGsm];
      chunk = [];
      chunkNonGsm = new Set();
      if (inFlight) await inFlight;
      inFlight = this.writeChunk(campaign, rowsToWrite, chars, result);
      inFlight.catch(() => undefined); // surfaced by the next await
    };

    for await (const raw of rows as AsyncIterable<RawRecipient | { row: number; error: string }>) {
      if ('error' in raw) {
        this.invalid(result, { row: raw.row, phone: '', reason: raw.error });
        continue;
      }
      const evaluated = evaluateRecipientRow(raw, template, this.phones);
      if (!evaluated.ok) {
        this.invalid(result, { row: evaluated.row, phone: evaluated.phone, reason: evaluated.reason });
        continue;
      }
      chunk.push({
        id: uuidv7(),
        phone: evaluated.phone,
        variables: evaluated.variables,
        segments: evaluated.segments,
        ucs2: evaluated.encoding === 'UCS-2',
      });
      for (const ch of evaluated.nonGsm) chunkNonGsm.add(ch);
      if (chunk.length >= CHUNK) await flush();
    }
    if (chunk.length > 0) await flush();
    if (inFlight) await inFlight;
    return result;
  }

  /**
   * After a text change: recomputes every recipient's segments and moves recipients that lack a
   * now-needed variable to `skipped` (and back to `queued` when the text no longer needs it).
   */
  async reevaluate(tx: EntityManager, campaign: Campaign): Promise<void> {
    const template = MessageTemplate.parse(campaign.text);
    let after = -1;
    let ucs2 = 0;
    const nonGsm = new Set<string>();
    for (;;) {
      const rows: Array<{ id: string; seq: number; variables: Record<string, string> | null; status: string }> = await queryRows(tx,
        `SELECT id, seq, variables, status FROM campaign_messages
          WHERE campaign_id = $1 AND seq > $2 AND status IN ('queued', 'skipped') ORDER BY seq LIMIT ${CHUNK}`,
        [campaign.id, after],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1].seq;
      const ids: string[] = [];
      const segments: number[] = [];
      const statuses: string[] = [];
      const codes: Array<string | null> = [];
      for (const row of rows) {
        const rendered = template.render(row.variables);
        ids.push(row.id);
        if ('missing' in rendered) {
          segments.push(1);
          statuses.push('skipped');
          codes.push(`MISSING_VARIABLE: ${rendered.missing.join(', ')}`);
          continue;
        }
        const count = countSegments(rendered.text);
        segments.push(count.segments);
        statuses.push('queued');
        codes.push(null);
        if (count.encoding === 'UCS-2') ucs2 += 1;
        for (const ch of count.nonGsmCharacters) nonGsm.add(ch);
      }
      await queryRows(tx,
        `UPDATE campaign_messages m SET segments = u.segments, status = u.status, error_code = u.code, updated_at = now()
           FROM unnest($1::uuid[], $2::int2[], $3::text[], $4::text[]) AS u(id, segments, status, code)
          WHERE m.id = u.id AND m.status IN ('queued', 'skipped') AND (m.status <> 'skipped' OR m.error_code IS NULL OR m.error_code LIKE 'MISSING_VARIABLE%')`,
        [ids, segments, statuses, codes],
      );
    }
    // Segment sums of the counters follow the new per-message segments.
    await queryRows(tx,
      `UPDATE campaign_message_counts k SET segments = s.segments
         FROM (SELECT status, sum(segments) AS segments FROM campaign_messages WHERE campaign_id = $1 GROUP BY status) s
        WHERE k.campaign_id = $1 AND k.status = s.status`,
      [campaign.id],
    );
    await queryRows(tx, `UPDATE campaigns SET ucs2_messages = $2, non_gsm_characters = $3 WHERE id = $1`, [
      campaign.id,
      ucs2,
      [...nonGsm].sort().slice(0, 50),
    ]);
  }

  private async writeChunk(campaign: Campaign, rows: NewMessageRow[], nonGsm: string[], result: ImportResult): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Allocating seq numbers also re-checks the campaign's state under its row lock, so an import
      // racing an enqueue either lands before it or is refused (409), never half-sent.
      const allocated: Array<{ base: number }> = await queryRows(tx,
        `UPDATE campaigns SET next_seq = next_seq + $2, updated_at = now()
          WHERE id = $1 AND status = ANY($3) RETURNING next_seq - $2 AS base`,
        [campaign.id, rows.length, statusesAllowing('add-recipients')],
      );
      if (allocated.length === 0) {
        throw new AppError('INVALID_CAMPAIGN_STATE', 'The campaign changed state during the import', { status: 'unknown' });
      }
      const written = await this.messageRows.insertChunk(tx, campaign.id, campaign.tenantId, allocated[0].base, rows);
      await queryRows(tx,
        `UPDATE campaigns SET ucs2_messages = ucs2_messages + $2,
                non_gsm_characters = ARRAY(SELECT DISTINCT x FROM unnest(non_gsm_characters || $3::text[]) AS x ORDER BY x LIMIT 50)
          WHERE id = $1`,
        [campaign.id, written.ucs2, nonGsm],
      );
      result.accepted += written.inserted;
      result.suppressed += written.suppressed;
      result.duplicates += rows.length - written.inserted - written.suppressed;
    });
  }

  private invalid(result: ImportResult, sample: InvalidSample): void {
    result.invalid += 1;
    if (result.invalidSamples.length < MAX_SAMPLES) result.invalidSamples.push(sample);
  }
}
