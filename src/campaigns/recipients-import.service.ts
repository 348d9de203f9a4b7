import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app.config.js';
import { queryRows } from '../database/sql.js';
import type { CsvErrorRow } from '../recipients/csv-recipients.js';
import { MessageTemplate } from '../recipients/message-template.js';
import { PhoneNormalizer } from '../recipients/phone-number.js';
import { PhoneNumberFilter } from '../recipients/phone-number-set.js';
import { evaluateRecipientRow, type RawRecipient } from '../recipients/recipient-row.js';
import { countSegments } from '../recipients/sms-segments.js';
import { CampaignMessagesCopyWriter } from './campaign-messages.copy-writer.js';
import type { Campaign } from './campaign.entity.js';
import { CopyChunk } from './copy-chunk.js';

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

/** Rows read between two turns of the event loop, so that PostgreSQL's answers are handled promptly. */
const YIELD_EVERY = 512;
const MAX_SAMPLES = 100;
/** Messages read per query when the campaign's text changed. */
const REEVALUATE_CHUNK = 5_000;

/**
 * Imports recipients from any row source (JSON body or streamed CSV) as a pipeline: rows are
 * validated (phone to E.164, placeholders, segments), checked against the tenant's suppression
 * list and a Bloom filter of the numbers seen so far, and encoded into a COPY chunk while the
 * previous chunk is being written by PostgreSQL (CampaignMessagesCopyWriter), so Node.js and the
 * database work at the same time, on two cores. Besides the two chunks' buffers an import holds
 * ~10 bits per row it may receive (the filter, sized from the body's length), never the rows.
 */
@Injectable()
export class RecipientsImportService {
  private readonly phones: PhoneNormalizer;

  constructor(
    private readonly writer: CampaignMessagesCopyWriter,
    config: ConfigService<AppConfig, true>,
  ) {
    const { defaultRegion, phoneValidation } = config.get('recipients', { infer: true });
    this.phones = new PhoneNormalizer(defaultRegion, phoneValidation);
  }

  /**
   * `batches`: rows in batches (the CSV parser yields what it has ready; a JSON body is one batch).
   * `maxRows`: an upper bound of the rows to come (sizes the filter of numbers seen).
   */
  async import(
    campaign: Campaign,
    batches: AsyncIterable<Array<RawRecipient | CsvErrorRow>> | Iterable<RawRecipient[]>,
    maxRows: number,
  ): Promise<ImportResult> {
    const template = MessageTemplate.parse(campaign.text);
    const result: ImportResult = { accepted: 0, duplicates: 0, suppressed: 0, invalid: 0, invalidSamples: [] };
    const seen = new PhoneNumberFilter(maxRows);
    const session = await this.writer.open(campaign.id, campaign.tenantId);
    // Double buffering: one chunk is filled while the other is written; a written chunk's buffer is reused.
    let filling = new CopyChunk(campaign.id);
    let spare = new CopyChunk(campaign.id);
    filling.reset(session.startSeq);
    let writing: Promise<CopyChunk> | undefined;
    const flush = async () => {
      if (writing) spare = await writing;
      const chunk = filling;
      filling = spare;
      filling.reset(chunk.seqEnd);
      writing = session.write(chunk).then((outcome) => {
        result.accepted += outcome.inserted;
        result.duplicates += outcome.duplicates;
        return chunk;
      });
      writing.catch(() => undefined); // surfaced by the next await of `writing`
    };

    try {
      let sinceYield = 0;
      for await (const batch of batches as AsyncIterable<Array<RawRecipient | CsvErrorRow>>) {
        for (const raw of batch) {
          if (++sinceYield === YIELD_EVERY) {
            sinceYield = 0;
            await yieldToEventLoop();
          }
          if ('error' in raw) {
            this.invalid(result, { row: raw.row, phone: '', reason: raw.error });
            continue;
          }
          const evaluated = evaluateRecipientRow(raw, template, this.phones);
          if (!evaluated.ok) {
            this.invalid(result, { row: evaluated.row, phone: evaluated.phone, reason: evaluated.reason });
            continue;
          }
          // Every occurrence of a suppressed number counts as suppressed.
          if (session.suppressed.has(evaluated.phone)) {
            result.suppressed++;
            continue;
          }
          // A number the filter may have seen is checked by the database (exact), the rest goes straight in.
          const checked = !seen.add(evaluated.phone);
          const { phone, variables, segments } = evaluated;
          filling.add({ phone, variables, segments, ucs2: evaluated.encoding === 'UCS-2' }, checked, evaluated.nonGsm);
          if (filling.full) await flush();
        }
      }
      if (filling.rows > 0) await flush();
      if (writing) await writing;
      return result;
    } finally {
      // The connection goes back only once no write is using it.
      if (writing) await writing.catch(() => undefined);
      await session.close();
    }
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
          WHERE campaign_id = $1 AND seq > $2 AND status IN ('queued', 'skipped') ORDER BY seq LIMIT ${REEVALUATE_CHUNK}`,
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

  private invalid(result: ImportResult, sample: InvalidSample): void {
    result.invalid += 1;
    if (result.invalidSamples.length < MAX_SAMPLES) result.invalidSamples.push(sample);
  }
}
