import { Injectable } from '@nestjs/common';
import { MittoClient } from './mitto.client.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { mapOutcome } from './send-outcome-mapping.js';
import { toMittoMessage, type OutgoingSms, type SendContext, type SendReport, type SmsSender } from './sms-sender.js';

/** The bulk flow: the whole batch in one `sendmessagesbulk` call, each message with its own text. */
@Injectable()
export class BulkSmsSender implements SmsSender {
  readonly mode = 'bulk' as const;

  constructor(
    private readonly mitto: MittoClient,
    private readonly metrics: MetricsService,
  ) {}

  async send(ctx: SendContext, messages: OutgoingSms[]): Promise<SendReport> {
    const end = this.metrics.mittoCalls.startTimer({ endpoint: 'sendmessagesbulk' });
    const outcome = await this.mitto.sendBulk(ctx.apiKey, messages.map((m) => toMittoMessage(ctx, m)));
    end({ outcome: outcome.kind });
    return mapOutcome(messages, outcome);
  }
}
