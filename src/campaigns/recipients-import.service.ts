import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app.config.js';
import type { CsvErrorRow } from '../recipients/csv-recipients.js';
import { MessageTemplate } from '../recipients/message-template.js';
import { PhoneNormalizer } from '../recipients/phone-number.js';
import { PhoneNumberFilter } from '../recipients/phone-number-set.js';
import { evaluateRecipientRow, type RawRecipient } from '../recipients/recipient-row.js';
import { countSegments } from '../recipients/sms-segments.js';
import { CampaignMessagesCopyWriter } from './campaign-messages.copy-writer.js';
import { CampaignMessagesRepository } from './campaign-messages.repository.js';
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
    private readonly messageRows: CampaignMessagesRepository,
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
      const rows = await this.messageRows.toReevaluate(tx, campaign.id, after);
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
      await this.messageRows.writeReevaluated(tx, ids, segments, statuses, codes);
    }
    await this.messageRows.finishReevaluation(tx, campaign.id, ucs2, [...nonGsm].sort().slice(0, 50));
  }

  private invalid(result: ImportResult, sample: InvalidSample): void {
    result.invalid += 1;
    if (result.invalidSamples.length < MAX_SAMPLES) result.invalidSamples.push(sample);
  }
}
