import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { MESSAGE_STATUSES, type MessageStatus } from '../campaigns/campaign-message.entity.js';
import { STATUS_RANK, rankSql, type ReportTarget } from '../campaigns/message-status-rank.js';
import { asMessageId, deliveryErrorCode, parseReportTime, targetOf, toStatusUpdate } from './delivery-status.js';

const NOW = Date.parse('2025-06-01T12:00:00.000Z');
const REF = '3f0c9a52-8a0e-4c3e-9d57-0c4f7e0b2a11';
const TARGETS: ReportTarget[] = ['sent', 'delivered', 'undelivered'];

/**
 * The forward-only rule as delivery-status-updates.repository.ts applies it in SQL (`rankSql(m.status) < target rank`,
 * where a status without a rank is NULL and never moves), spelled out over STATUS_RANK.
 */
function canMove(current: MessageStatus, target: ReportTarget): boolean {
  const from = STATUS_RANK[current];
  return from !== undefined && from < STATUS_RANK[target]!;
}

/** Applies a sequence of targets to a status with the forward-only rule, as the SQL does. */
function replay(start: MessageStatus, targets: ReportTarget[]): MessageStatus {
  return targets.reduce<MessageStatus>((s, t) => (canMove(s, t) ? t : s), start);
}

describe('status mapping', () => {
  it.each([
    ['Delivered', 'delivered'],
    ['delivered', 'delivered'],
    ['Failure', 'undelivered'],
    ['Undelivered', 'undelivered'],
    ['Expired', 'undelivered'],
    ['Rejected', 'undelivered'],
    ['Sent', 'sent'],
    ['Pending', 'sent'],
    ['Enroute', 'sent'], // unknown value: treated as pending
  ])('%s → %s', (raw, expected) => {
    expect(toStatusUpdate({ messageId: 'M1', deliveryStatus: raw }, NOW)?.target).toBe(expected);
  });

  it('maps every bucket', () => {
    expect([targetOf('pending'), targetOf('delivered'), targetOf('failed'), targetOf('unknown')]).toEqual([
      'sent', 'delivered', 'undelivered', 'sent',
    ]);
  });

  it('flags values outside the known list as the unknown bucket', () => {
    expect(toStatusUpdate({ messageId: 'M1', deliveryStatus: 'Enroute' }, NOW)?.bucket).toBe('unknown');
    expect(toStatusUpdate({ messageId: 'M1', deliveryStatus: 'Sent' }, NOW)?.bucket).toBe('pending');
  });

  it('a failure carries DELIVERY_<RAW> and the description; a delivery carries the report time', () => {
    const failed = toStatusUpdate({ messageId: 'M1', deliveryStatus: 'Failure', description: 'Absent subscriber' }, NOW)!;
    expect(failed).toMatchObject({ target: 'undelivered', errorCode: 'DELIVERY_FAILURE', errorMessage: 'Absent subscriber', reportedAt: null });
    const delivered = toStatusUpdate({ messageId: 'M1', deliveryStatus: 'Delivered', updatedAt: '2025-06-01T11:59:00Z' }, NOW)!;
    expect(delivered).toMatchObject({ errorCode: null, errorMessage: null });
    expect(delivered.reportedAt?.toISOString()).toBe('2025-06-01T11:59:00.000Z');
  });

  it('stores the raw value and matches by a UUID reference only', () => {
    expect(toStatusUpdate({ messageId: 'M1', deliveryStatus: ' Sent ', reference: REF.toUpperCase() }, NOW)).toMatchObject({
      providerMessageId: 'M1',
      messageId: REF,
      rawStatus: 'Sent',
    });
    expect(toStatusUpdate({ messageId: 'M1', deliveryStatus: 'Sent', reference: "x' OR 1=1 --" }, NOW)?.messageId).toBeNull();
    expect(toStatusUpdate({ messageId: 'M1', deliveryStatus: 'Sent', reference: REF }, NOW, 'our-id')?.messageId).toBe('our-id');
    expect(toStatusUpdate({ messageId: 'X'.repeat(201), deliveryStatus: 'Sent' }, NOW)).toBeNull();
  });

  it('NUL characters never reach PostgreSQL: an id with one names nothing, other fields lose them', () => {
    expect(toStatusUpdate({ messageId: '\u0000', deliveryStatus: 'Delivered' }, NOW)).toBeNull();
    expect(toStatusUpdate({ messageId: 'M\u00001', deliveryStatus: 'Delivered' }, NOW)).toBeNull();
    expect(toStatusUpdate({ messageId: 'M1', deliveryStatus: '\u0000' }, NOW)).toBeNull();
    expect(toStatusUpdate({ messageId: 'M1', deliveryStatus: 'delivered\u0000' }, NOW)).toMatchObject({ target: 'delivered', rawStatus: 'delivered' });
    const failed = toStatusUpdate({ messageId: 'M1', deliveryStatus: 'Failure', description: 'a\u0000b' }, NOW);
    expect(failed).toMatchObject({ errorMessage: 'ab' });
  });

  it('error codes are upper snake case', () => {
    expect(deliveryErrorCode('Failure')).toBe('DELIVERY_FAILURE');
    expect(deliveryErrorCode('not delivered!')).toBe('DELIVERY_NOT_DELIVERED');
    expect(deliveryErrorCode('???')).toBe('DELIVERY_UNKNOWN');
  });

  it('reads report times as UTC, ignores garbage and far-future clocks', () => {
    expect(parseReportTime('2025-06-01T10:00:00', NOW)?.toISOString()).toBe('2025-06-01T10:00:00.000Z');
    expect(parseReportTime('2025-06-01T10:00:00+02:00', NOW)?.toISOString()).toBe('2025-06-01T08:00:00.000Z');
    expect(parseReportTime('yesterday', NOW)).toBeNull();
    expect(parseReportTime('2030-01-01T00:00:00Z', NOW)).toBeNull();
    expect(parseReportTime('0000-01-01T00:00:00Z', NOW)).toBeNull();
    expect(parseReportTime(undefined, NOW)).toBeNull();
    expect(asMessageId('not-a-uuid')).toBeNull();
  });
});

describe('forward-only rule', () => {
  it('moves only to a strictly higher rank', () => {
    expect(canMove('sent', 'delivered')).toBe(true);
    expect(canMove('sent', 'undelivered')).toBe(true);
    expect(canMove('unknown', 'sent')).toBe(true);
    expect(canMove('queued', 'sent')).toBe(true);
    expect(canMove('queued', 'delivered')).toBe(true); // report before our own result write
    expect(canMove('sent', 'sent')).toBe(false);
    expect(canMove('delivered', 'undelivered')).toBe(false);
    expect(canMove('undelivered', 'delivered')).toBe(false);
    expect(canMove('delivered', 'sent')).toBe(false);
  });

  it.each(['failed', 'cancelled', 'skipped'] as const)('%s never moves', (status) => {
    for (const t of TARGETS) expect(canMove(status, t)).toBe(false);
  });

  it('Delivered then a late Sent stays delivered; replays change nothing', () => {
    expect(replay('sent', ['delivered', 'sent'])).toBe('delivered');
    expect(replay('sent', ['undelivered', 'delivered', 'sent'])).toBe('undelivered');
    expect(replay('unknown', ['sent', 'sent'])).toBe('sent');
  });

  it('any order of reports ends in the first final one, never below where it started', () => {
    const status = fc.constantFrom(...MESSAGE_STATUSES);
    const targets = fc.array(fc.constantFrom(...TARGETS), { maxLength: 8 });
    fc.assert(
      fc.property(status, targets, (start, ts) => {
        const end = replay(start, ts);
        const rank = (s: MessageStatus) => STATUS_RANK[s];
        if (rank(start) === undefined) return end === start;
        const firstFinal = ts.find((t) => t !== 'sent' && canMove(start, t));
        if (firstFinal) return end === firstFinal;
        return rank(end)! >= rank(start)!;
      }),
    );
  });

  it('the SQL CASE encodes the same ranks', () => {
    const sql = rankSql('m.status');
    for (const [status, rank] of Object.entries(STATUS_RANK)) expect(sql).toContain(`WHEN '${status}' THEN ${rank}`);
    for (const status of ['failed', 'cancelled', 'skipped']) expect(sql).not.toContain(`'${status}'`);
  });
});
