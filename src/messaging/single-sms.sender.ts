import { Injectable } from '@nestjs/common';
import { MittoClient } from './mitto.client.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { mapOutcome } from './send-outcome-mapping.js';
import { toMittoMessage, type OutgoingSms, type SendContext, type SendReport, type SmsSender } from './sms-sender.js';
import type { MessageResult } from '../campaigns/campaign-messages.repository.js';

/**
 * The legacy flow, kept fully working: one `send` call per message, one after the other, each paced
 * by the rate limiter. When Mitto says "not now" (retry class), the rest of the batch is given back
 * untouched rather than hammering it.
 */
@Injectable()
export class SingleSmsSender implements SmsSender {
  readonly mode = 'single' as const;

  constructor(
    private readonly mitto: MittoClient,
    private readonly metrics: MetricsService,
  ) {}

  async send(ctx: SendContext, messages: OutgoingSms[]): Promise<SendReport> {
    const results: MessageResult[] = [];
    for (let i = 0; i < messages.length; i++) {
      if (i > 0) await ctx.nextPermit();
      const m = messages[i];
      const end = this.metrics.mittoCalls.startTimer({ endpoint: 'send' });
      const outcome = await this.mitto.sendOne(ctx.apiKey, toMittoMessage(ctx, m));
      end({ outcome: outcome.kind });
      const report = mapOutcome([m], outcome);
      results.push(...report.results);
      if (report.retry) {
        const rest = messages.slice(i + 1).map((r): MessageResult => ({ id: r.id, status: 'queued' }));
        return { bulkId: null, results: [...results, ...rest], retry: report.retry };
      }
    }
    return { bulkId: null, results };
  }
}
