import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { Transform, type TransformCallback } from 'node:stream';
import type { Request } from 'express';
import type { AppConfig } from '../config/app.config.js';
import { AppError } from '../common/app-error.js';
import { parseCsvRecipients, CsvFormatError } from '../recipients/csv-recipients.js';
import { CampaignsService } from './campaigns.service.js';
import { RecipientsImportService, type ImportResult } from './recipients-import.service.js';
import { AddRecipientsDto, RecipientInput } from './dto/recipients.dto.js';
import { flatten, undeclaredKeys } from '../common/validation.js';

/** Fails the stream once more than `limit` bytes went through: CSV bodies are never buffered whole. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) return done(new AppError('PAYLOAD_TOO_LARGE', `CSV body is larger than ${this.limit} bytes`));
    done(null, chunk);
  }
}

/** `POST /api/campaigns/:id/recipients`: a JSON body (parsed by the global parser) or a streamed CSV. */
@Injectable()
export class RecipientsUploadService {
  private readonly csvLimit: number;

  constructor(
    private readonly campaigns: CampaignsService,
    private readonly importer: RecipientsImportService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.csvLimit = config.get('http', { infer: true }).csvLimitBytes;
  }

  async add(tenantId: string, campaignId: string, req: Request): Promise<ImportResult> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const campaign = await this.campaigns.find(tenantId, campaignId);
    CampaignsService.assertCan(campaign, 'add-recipients');

    if (contentType === 'text/csv') {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > this.csvLimit) throw new AppError('PAYLOAD_TOO_LARGE', `CSV body is larger than ${this.csvLimit} bytes`);
      const body = req.pipe(new ByteLimit(this.csvLimit));
      req.on('error', (e) => body.destroy(e));
      try {
        // Sizes the filter of numbers seen (~13 bytes per row, "+41791234567\n"); more rows than that
        // only make its "maybe seen" answers (checked exactly by the database) more frequent.
        const maxRows = Math.ceil((declared > 0 ? declared : this.csvLimit) / 13);
        return await this.importer.import(campaign, parseCsvRecipients(body), maxRows);
      } catch (e) {
        if (e instanceof CsvFormatError) throw AppError.validation([{ field: 'body', message: e.message }], e.message);
        throw e;
      }
    }
    if (contentType === 'application/json' || contentType.endsWith('+json')) {
      const raw: unknown = req.body ?? {};
      const unknown = [
        ...undeclaredKeys(AddRecipientsDto, raw),
        ...(Array.isArray((raw as { recipients?: unknown }).recipients)
          ? ((raw as { recipients: unknown[] }).recipients).flatMap((item, i) =>
              undeclaredKeys(RecipientInput, item).map((k) => `recipients.${i}.${k}`),
            )
          : []),
      ];
      if (unknown.length > 0) {
        throw AppError.validation(unknown.slice(0, 100).map((field) => ({ field, message: `property ${field} should not exist` })));
      }
      const dto = plainToInstance(AddRecipientsDto, raw);
      const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
      if (errors.length > 0) {
        throw AppError.validation(flatten(errors), 'The recipients body is not valid');
      }
      const rows = dto.recipients.map((r, i) => ({ row: i + 1, phone: r.phone, variables: r.variables }));
      return this.importer.import(campaign, [rows], rows.length);
    }
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send recipients as application/json or text/csv');
  }
}
