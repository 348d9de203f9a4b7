import { Injectable } from '@nestjs/common';
import { queryRows } from '../database/sql.js';
import type { EntityManager } from 'typeorm';
import { AppError } from '../common/app-error.js';

export interface CreditBalance {
  balance: number;
  reserved: number;
}

/**
 * Credit movements that start outside message status changes: top-ups and campaign reservations.
 * (Debits and refunds follow message statuses and are written by the `campaign_messages` trigger.)
 * Every movement is one conditional UPDATE plus one ledger row in the caller's transaction.
 */
@Injectable()
export class CreditsService {
  async topUp(tx: EntityManager, tenantId: string, amount: number, reason: string | null): Promise<CreditBalance> {
    const rows: Array<{ credit_balance: string; credit_reserved: string }> = await queryRows(tx,
      `UPDATE tenants SET credit_balance = credit_balance + $2, updated_at = now() WHERE id = $1
       RETURNING credit_balance, credit_reserved`,
      [tenantId, amount],
    );
    if (rows.length === 0) throw AppError.notFound('Tenant');
    return this.record(tx, tenantId, null, 'topup', amount, rows[0], reason);
  }

  /**
   * Moves `amount` from balance to reserved only if the balance covers it: one conditional UPDATE,
   * so concurrent reservations can never overdraw. Throws 402 with required/available otherwise.
   */
  async reserve(tx: EntityManager, tenantId: string, campaignId: string, amount: number): Promise<CreditBalance> {
    const rows: Array<{ credit_balance: string; credit_reserved: string }> = await queryRows(tx,
      `UPDATE tenants SET credit_balance = credit_balance - $2, credit_reserved = credit_reserved + $2, updated_at = now()
       WHERE id = $1 AND credit_balance >= $2 RETURNING credit_balance, credit_reserved`,
      [tenantId, amount],
    );
    if (rows.length === 0) {
      const [current] = await queryRows(tx, `SELECT credit_balance FROM tenants WHERE id = $1`, [tenantId]);
      throw new AppError('INSUFFICIENT_CREDITS', 'Not enough credits for this campaign', {
        required: amount,
        available: Number(current?.credit_balance ?? 0),
      });
    }
    return this.record(tx, tenantId, campaignId, 'reserve', amount, rows[0], 'campaign enqueued');
  }

  async balance(tx: EntityManager, tenantId: string): Promise<CreditBalance> {
    const [row] = await queryRows(tx, `SELECT credit_balance, credit_reserved FROM tenants WHERE id = $1`, [tenantId]);
    if (!row) throw AppError.notFound('Tenant');
    return { balance: Number(row.credit_balance), reserved: Number(row.credit_reserved) };
  }

  private async record(
    tx: EntityManager,
    tenantId: string,
    campaignId: string | null,
    kind: 'topup' | 'reserve',
    amount: number,
    row: { credit_balance: string; credit_reserved: string },
    reason: string | null,
  ): Promise<CreditBalance> {
    await queryRows(tx,
      `INSERT INTO credit_ledger (tenant_id, campaign_id, kind, amount, balance_after, reserved_after, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [tenantId, campaignId, kind, amount, row.credit_balance, row.credit_reserved, reason],
    );
    return { balance: Number(row.credit_balance), reserved: Number(row.credit_reserved) };
  }
}
