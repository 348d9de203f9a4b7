import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository, type EntityManager } from 'typeorm';
import { queryRows } from '../database/sql.js';
import { Campaign } from './campaign.entity.js';
import type { CampaignStatus } from './campaign-state.js';
import type { BulkSending } from '../tenants/bulk-sending.js';

/** A campaign's dispatch bookkeeping, as the dispatcher reads it. */
export interface DispatchState {
  status: string;
  batch_count: number;
  batch_size: number;
  dispatched_batches: number;
  dispatch_generation: number;
  canary_state: string | null;
  canary_until_seq: number;
}

/** A campaign's tenant and traffic account, with their rate limits (status lookups). */
export interface CampaignAccountRow {
  id: string;
  tenant_id: string;
  account_id: string;
  api_key: string | null;
  account_rps: number | null;
  tenant_rps: number | null;
}

/**
 * Rows of `campaigns` outside the status changes (CampaignLifecycleRepository, the guard rails') and
 * sending (batch repositories): CRUD through the entity, the dispatch watermark, and the joins the
 * status lookups and /metrics read.
 */
@Injectable()
export class CampaignsRepository {
  constructor(
    private readonly db: DataSource,
    @InjectRepository(Campaign) private readonly campaigns: Repository<Campaign>,
  ) {}

  async create(fields: Partial<Campaign>): Promise<Campaign> {
    return this.campaigns.save(this.campaigns.create(fields));
  }

  /** A campaign of this tenant (null for another tenant's), row-locked in `tx` if asked. */
  async find(tenantId: string, id: string, tx?: EntityManager, lock = false): Promise<Campaign | null> {
    const repo = tx ? tx.getRepository(Campaign) : this.campaigns;
    return repo.findOne({ where: { id, tenantId }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  }

  /** One page of a tenant's campaigns, newest first, and their total. */
  async page(tenantId: string, status: CampaignStatus | undefined, skip: number, take: number): Promise<[Campaign[], number]> {
    return this.campaigns.findAndCount({
      where: { tenantId, ...(status ? { status } : {}) },
      order: { createdAt: 'DESC', id: 'ASC' },
      skip,
      take,
    });
  }

  /** Writes a campaign loaded (and locked) in `tx`; a status change in it was checked by the state machine. */
  async save(tx: EntityManager, campaign: Campaign): Promise<void> {
    await tx.save(campaign);
  }

  async update(tx: EntityManager, id: string, changes: Partial<Campaign>): Promise<void> {
    await tx.update(Campaign, { id }, changes);
  }

  /** Deletes a draft (a delete trigger removes its messages). */
  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.delete(Campaign, { id });
  }

  async dispatchState(campaignId: string): Promise<DispatchState | undefined> {
    const [row] = await queryRows<DispatchState>(this.db,
      `SELECT status, batch_count, batch_size, dispatched_batches, dispatch_generation, canary_state, canary_until_seq FROM campaigns WHERE id = $1`,
      [campaignId],
    );
    return row;
  }

  /** Moves the dispatch watermark from `from` to `to`, unless another generation or job moved it. */
  async advanceDispatch(campaignId: string, generation: number, from: number, to: number): Promise<void> {
    await queryRows(this.db,
      `UPDATE campaigns SET dispatched_batches = $3 WHERE id = $1 AND dispatch_generation = $2 AND dispatched_batches = $4`,
      [campaignId, generation, to, from],
    );
  }

  async accounts(campaignIds: string[]): Promise<CampaignAccountRow[]> {
    return this.db.query(
      `SELECT c.id, c.tenant_id, a.id AS account_id, a.api_key, a.rate_limit_per_second AS account_rps,
                t.rate_limit_per_second AS tenant_rps
           FROM campaigns c
           JOIN tenants t ON t.id = c.tenant_id
           JOIN traffic_accounts a ON a.id = c.traffic_account_id
          WHERE c.id = ANY($1::uuid[])`,
      [campaignIds],
    );
  }

  /** Messages of active (sending, paused) campaigns by status, from the counters (no COUNT(*)). */
  async activeMessagesByStatus(): Promise<Array<{ status: string; messages: string }>> {
    return this.db.query(
      `SELECT k.status, sum(k.messages)::bigint AS messages
         FROM campaign_message_counts k JOIN campaigns c ON c.id = k.campaign_id
        WHERE c.settled_at IS NULL AND c.status IN ('sending', 'paused')
        GROUP BY k.status`,
    );
  }

  /** Sending campaigns with their tenant's bulk-sending setting. */
  async sendingWithBulkSetting(): Promise<Array<{ id: string; tenant_id: string; bulk_sending: BulkSending }>> {
    return this.db.query(
      `SELECT c.id, c.tenant_id, t.bulk_sending FROM campaigns c JOIN tenants t ON t.id = c.tenant_id
        WHERE c.settled_at IS NULL AND c.status = 'sending'`,
    );
  }
}
