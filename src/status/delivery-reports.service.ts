import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { AppError } from '../common/app-error.js';
import { secretsEqual } from '../common/secrets.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { parseMittoDeliveryReports } from '../mitto/mitto-message-status.js';
import { toStatusUpdate, type StatusUpdate } from './delivery-status.js';
import { StatusWriter } from './status-writer.service.js';
import type { DeliveryReportsResultView } from './dto/status.dto.js';

/** Unknown `deliveryStatus` values already logged by this process (bounded: a flood cannot grow it). */
const MAX_LOGGED_VALUES = 100;

/** Mitto delivery reports: authenticate, parse, apply (forward-only), count. */
@Injectable()
export class DeliveryReportsService {
  private readonly logger = new Logger(DeliveryReportsService.name);
  private readonly secret: string;
  private readonly loggedValues = new Set<string>();

  constructor(
    private readonly writer: StatusWriter,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.secret = config.get('mitto', { infer: true }).webhookSecret;
  }

  authenticate(given: string | string[] | undefined): void {
    if (typeof given !== 'string' || !secretsEqual(given, this.secret)) {
      throw new AppError('UNAUTHORIZED', 'Missing or invalid X-Webhook-Secret');
    }
  }

  async receive(body: unknown): Promise<DeliveryReportsResultView> {
    const received = body === undefined || body === null ? 0 : Array.isArray(body) ? body.length : 1;
    const { reports, invalid } = received === 0 ? { reports: [], invalid: 0 } : parseMittoDeliveryReports(body);
    const now = Date.now();
    const updates: StatusUpdate[] = [];
    let unreadable = invalid;
    for (const report of reports) {
      const update = toStatusUpdate(report, now);
      if (!update) {
        unreadable++;
        continue;
      }
      if (update.bucket === 'unknown') this.logUnknownValue(update.rawStatus);
      updates.push(update);
    }
    const outcomes = await this.writer.write(updates);
    let updated = 0;
    let unknown = 0;
    for (const o of outcomes) {
      if (!o.matched) unknown++;
      else if (o.moved) updated++;
    }
    const unchanged = outcomes.length - updated - unknown;
    if (updated) this.metrics.webhookReports.inc({ result: 'updated' }, updated);
    if (unchanged) this.metrics.webhookReports.inc({ result: 'unchanged' }, unchanged);
    if (unknown) this.metrics.webhookReports.inc({ result: 'unknown' }, unknown);
    if (unreadable) this.metrics.webhookReports.inc({ result: 'invalid' }, unreadable);
    return { received, updated, unknown, invalid: unreadable };
  }

  private logUnknownValue(value: string): void {
    if (this.loggedValues.has(value) || this.loggedValues.size >= MAX_LOGGED_VALUES) return;
    this.loggedValues.add(value);
    this.logger.warn({ deliveryStatus: value }, 'unknown Mitto deliveryStatus; treated as pending (see docs/STATUS.md)');
  }
}
