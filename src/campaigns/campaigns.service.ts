import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import { ConfigService } from '@nestjs/config';
import { DataSource, type EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app.config.js';
import { AppError } from '../common/app-error.js';
import { pageOffset, type Page } from '../common/pagination.js';
import { Campaign } from './campaign.entity.js';
import type { CampaignMessage } from './campaign-message.entity.js';
import { canPerform, type CampaignAction } from './campaign-state.js';
import { CampaignMessagesRepository } from './campaign-messages.repository.js';
import { CampaignsRepository } from './campaigns.repository.js';
import { RecipientsImportService } from './recipients-import.service.js';
import { messageCounts, progressOf, type MessageCounts } from './message-counts.js';
import { usesBulk, type BulkSending } from '../tenants/bulk-sending.js';
import type {
  CampaignStatusView, CampaignView, CreateCampaignDto, EstimateView, GuardRailsFields, ListCampaignsQuery, ListMessagesQuery, MessagePageView, MessageView, UpdateCampaignDto,
} from './dto/campaign.dto.js';
import { DEFAULT_MIN_MESSAGES } from '../guard-rails/guard-rails.types.js';
import { normalizeTimeZone } from '../guard-rails/time-zone.js';

/** Campaign CRUD, views and read models (status, messages, estimate). State changes: CampaignLifecycleService. */
@Injectable()
export class CampaignsService {
  private readonly creditsPerSegment: number;
  private readonly useBulkByDefault: boolean;

  constructor(
    private readonly db: DataSource,
    private readonly campaigns: CampaignsRepository,
    private readonly messageRows: CampaignMessagesRepository,
    private readonly recipients: RecipientsImportService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.creditsPerSegment = config.get('sending', { infer: true }).creditsPerSegment;
    this.useBulkByDefault = config.get('sending', { infer: true }).useBulk;
  }

  async create(tenantId: string, dto: CreateCampaignDto): Promise<CampaignView> {
    const scheduledAt = dto.scheduledAt ? new Date(dto.scheduledAt) : null;
    const campaign = await this.campaigns.create({
      tenantId,
      name: dto.name,
      text: dto.text,
      sender: dto.sender ?? null,
      status: 'draft',
      scheduledAt,
      ...guardRailChanges(dto),
    });
    return this.view(campaign);
  }

  /** Loads a campaign of this tenant; another tenant's campaign is indistinguishable from none. */
  async find(tenantId: string, id: string, tx?: EntityManager, lock = false): Promise<Campaign> {
    const campaign = await this.campaigns.find(tenantId, id, tx, lock);
    if (!campaign) throw AppError.notFound('Campaign');
    return campaign;
  }

  static assertCan(campaign: Campaign, action: CampaignAction): void {
    if (!canPerform(campaign.status, action)) {
      throw new AppError('INVALID_CAMPAIGN_STATE', `Cannot ${action} a campaign that is ${campaign.status}`, {
        status: campaign.status,
      });
    }
  }

  async get(tenantId: string, id: string): Promise<CampaignView> {
    return this.view(await this.find(tenantId, id));
  }

  async list(tenantId: string, q: ListCampaignsQuery): Promise<Page<CampaignView>> {
    const [rows, total] = await this.campaigns.page(tenantId, q.status, pageOffset(q), q.limit);
    const metrics = await this.countsFor(rows.map((c) => c.id));
    return { items: rows.map((c) => toCampaignView(c, metrics.get(c.id))), total, page: q.page, limit: q.limit };
  }

  async update(tenantId: string, id: string, dto: UpdateCampaignDto): Promise<CampaignView> {
    return this.db.transaction(async (tx) => {
      const campaign = await this.find(tenantId, id, tx, true);
      CampaignsService.assertCan(campaign, 'edit');
      if (dto.name !== undefined) campaign.name = dto.name;
      if (dto.sender !== undefined) campaign.sender = dto.sender;
      Object.assign(campaign, guardRailChanges(dto));
      const textChanged = dto.text !== undefined && dto.text !== campaign.text;
      if (dto.text !== undefined) campaign.text = dto.text;
      await this.campaigns.save(tx, campaign);
      if (textChanged) await this.recipients.reevaluate(tx, campaign);
      return this.view(campaign, tx);
    });
  }

  async remove(tenantId: string, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const campaign = await this.find(tenantId, id, tx, true);
      CampaignsService.assertCan(campaign, 'delete');
      await this.campaigns.delete(tx, campaign.id);
    });
  }

  async status(tenantId: string, id: string): Promise<CampaignStatusView> {
    return this.statusOf(await this.find(tenantId, id));
  }

  async statusOf(campaign: Campaign): Promise<CampaignStatusView> {
    const view = await this.view(campaign);
    let sendMode: CampaignStatusView['sendMode'] = null;
    if (campaign.status === 'sending' || campaign.status === 'paused') {
      const [tenant] = await queryRows<{ bulk_sending: BulkSending }>(this.db, `SELECT bulk_sending FROM tenants WHERE id = $1`, [campaign.tenantId]);
      sendMode = usesBulk(tenant.bulk_sending, this.useBulkByDefault) ? 'bulk' : 'single';
    }
    return { campaign: view, metrics: view.metrics, progress: progressOf(view.metrics), creditsReserved: campaign.creditsReserved, sendMode };
  }

  async listMessages(tenantId: string, id: string, q: ListMessagesQuery): Promise<MessagePageView> {
    const campaign = await this.find(tenantId, id);
    // Past its retention the messages are gone, or going (chunk by chunk): say so rather than list a remnant.
    if (campaign.messagesPurgedAt) {
      return { items: [], total: 0, page: q.page, limit: q.limit, messagesPurgedAt: campaign.messagesPurgedAt.toISOString() };
    }
    const metrics = (await this.countsFor([campaign.id])).get(campaign.id)!;
    // Totals come from the counters (exact, and no COUNT(*) over a million rows).
    const total = q.status ? metrics[q.status] : metrics.total;
    const rows = await this.messageRows.page(campaign.id, q.status, pageOffset(q), q.limit);
    return { items: rows.map(toMessageView), total, page: q.page, limit: q.limit, messagesPurgedAt: null };
  }

  async estimate(tenantId: string, id: string): Promise<EstimateView> {
    const campaign = await this.find(tenantId, id);
    const counts = await this.messageRows.counts(campaign.id);
    const queued = counts.find((c) => c.status === 'queued');
    const skipped = counts.find((c) => c.status === 'skipped');
    const recipients = Number(queued?.messages ?? 0);
    const segments = Number(queued?.segments ?? 0);
    const cps = campaign.creditsHeld ? campaign.creditsPerSegment : this.creditsPerSegment;
    const encoding = campaign.ucs2Messages === 0 ? 'GSM-7' : campaign.ucs2Messages >= recipients ? 'UCS-2' : 'mixed';
    return {
      recipients,
      segments,
      credits: segments * cps,
      encoding,
      nonGsmCharacters: campaign.nonGsmCharacters,
      skipped: Number(skipped?.messages ?? 0),
    };
  }

  async view(campaign: Campaign, tx?: EntityManager): Promise<CampaignView> {
    const counts = await this.messageRows.counts(campaign.id, tx);
    return toCampaignView(campaign, messageCounts(counts));
  }

  async countsFor(ids: string[]): Promise<Map<string, MessageCounts>> {
    if (ids.length === 0) return new Map();
    const rows = await this.messageRows.countsFor(ids);
    return new Map(ids.map((id) => [id, messageCounts(rows.filter((r) => r.campaign_id === id))]));
  }
}

export function toCampaignView(c: Campaign, metrics: MessageCounts = messageCounts([])): CampaignView {
  return {
    id: c.id,
    name: c.name,
    text: c.text,
    sender: c.sender,
    status: c.status,
    scheduledAt: c.scheduledAt?.toISOString() ?? null,
    startedAt: c.startedAt?.toISOString() ?? null,
    completedAt: c.completedAt?.toISOString() ?? null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    sendWindow: c.sendWindow,
    expiresAt: c.expiresAt?.toISOString() ?? null,
    autoPause: c.autoPause,
    canary: c.canary,
    pauseReason: c.status === 'paused' ? (c.pauseReason ?? 'USER') : null,
    canaryState: c.canaryState,
    messagesPurgedAt: c.messagesPurgedAt?.toISOString() ?? null,
    metrics,
  };
}

/** The guard-rail fields a create or PATCH sets: given ones as stored (defaults filled in), `null` removes. */
function guardRailChanges(dto: GuardRailsFields): Partial<Campaign> {
  const changes: Partial<Campaign> = {};
  if (dto.sendWindow !== undefined) {
    changes.sendWindow = dto.sendWindow && {
      start: dto.sendWindow.start,
      end: dto.sendWindow.end,
      ...(dto.sendWindow.days ? { days: [...dto.sendWindow.days].sort((a, b) => a - b) } : {}),
      timeZone: dto.sendWindow.timeZone && dto.sendWindow.timeZone !== 'recipient' ? normalizeTimeZone(dto.sendWindow.timeZone)! : 'recipient',
    };
  }
  if (dto.expiresAt !== undefined) changes.expiresAt = dto.expiresAt === null ? null : new Date(dto.expiresAt);
  if (dto.autoPause !== undefined) {
    changes.autoPause = dto.autoPause && { maxFailureRate: dto.autoPause.maxFailureRate, minMessages: dto.autoPause.minMessages ?? DEFAULT_MIN_MESSAGES };
  }
  if (dto.canary !== undefined) {
    changes.canary = dto.canary && { size: dto.canary.size, minDeliveredRate: dto.canary.minDeliveredRate, waitSeconds: dto.canary.waitSeconds };
  }
  return changes;
}

function toMessageView(m: CampaignMessage): MessageView {
  return {
    id: m.id,
    phone: m.phone,
    status: m.status,
    providerMessageId: m.providerMessageId,
    bulkId: m.bulkId,
    retryCount: m.retryCount,
    errorCode: m.errorCode,
    errorMessage: m.errorMessage,
    sentAt: m.sentAt?.toISOString() ?? null,
    deliveredAt: m.deliveredAt?.toISOString() ?? null,
  };
}
