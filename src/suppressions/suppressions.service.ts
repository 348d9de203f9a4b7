import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ConfigService } from '@nestjs/config';
import { Repository } from 'typeorm';
import type { AppConfig } from '../config/app.config.js';
import { AppError } from '../common/app-error.js';
import { pageOffset, type Page } from '../common/pagination.js';
import { PhoneNormalizer } from '../recipients/phone-number.js';
import { Suppression } from './suppression.entity.js';
import type { AddSuppressionDto, ListSuppressionsQuery, SuppressionView } from './dto/suppression.dto.js';

/** The tenant's opt-out list. Sending re-checks it at claim time, so a late opt-out still stops a message. */
@Injectable()
export class SuppressionsService {
  private readonly phones: PhoneNormalizer;

  constructor(@InjectRepository(Suppression) private readonly repo: Repository<Suppression>, config: ConfigService<AppConfig, true>) {
    const { defaultRegion, phoneValidation } = config.get('recipients', { infer: true });
    this.phones = new PhoneNormalizer(defaultRegion, phoneValidation);
  }

  async add(tenantId: string, dto: AddSuppressionDto): Promise<SuppressionView> {
    const phone = this.normalize(dto.phone);
    await this.repo.upsert({ tenantId, phone, reason: dto.reason ?? null }, { conflictPaths: ['tenantId', 'phone'] });
    return toView((await this.repo.findOneBy({ tenantId, phone }))!);
  }

  async list(tenantId: string, q: ListSuppressionsQuery): Promise<Page<SuppressionView>> {
    const [rows, total] = await this.repo.findAndCount({ where: { tenantId }, order: { createdAt: 'DESC', phone: 'ASC' }, skip: pageOffset(q), take: q.limit });
    return { items: rows.map(toView), total, page: q.page, limit: q.limit };
  }

  async remove(tenantId: string, rawPhone: string): Promise<void> {
    const phone = this.normalize(rawPhone);
    const result = await this.repo.delete({ tenantId, phone });
    if (!result.affected) throw AppError.notFound('Suppression');
  }

  private normalize(raw: string): string {
    const n = this.phones.normalize(raw);
    if (!n.ok) throw AppError.validation([{ field: 'phone', message: `Not a valid phone number (${n.reason})` }]);
    return n.e164;
  }
}

function toView(s: Suppression): SuppressionView {
  return { phone: s.phone, reason: s.reason, createdAt: s.createdAt.toISOString() };
}
