import { Injectable } from '@nestjs/common';
import { MittoClient } from '../mitto/mitto.client.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { mapOutcome } from './send-outcome-mapping.js';
import { toMittoMessage, type CallReport, type OutgoingSms, type PreparedCall, type SendContext, type SmsSender } from './sms-sender.js';

/** The bulk flow: the whole batch in one `sendmessagesbulk` call, each message with its own text. */
@Injectable()
export class BulkSmsSender implements SmsSender {
  readonly mode = 'bulk' as const;

  constructor(
    private readonly mitto: MittoClient,
    private readonly metrics: MetricsService,
  ) {}

  prepare(ctx: SendContext, messages: readonly OutgoingSms[]): PreparedCall[] {
    if (messages.length === 0) return [];
    return [{ messages, request: this.mitto.prepareBulk(ctx.apiKey, messages.map((m) => toMittoMessage(ctx, m))) }];
  }

  async send(call: PreparedCall): Promise<CallReport> {
    const end = this.metrics.mittoCalls.startTimer({ endpoint: 'sendmessagesbulk' });
    const outcome = await this.mitto.call(call.request);
    end({ outcome: outcome.kind });
    return mapOutcome(call.messages, outcome);
  }
}
