import { Injectable } from '@nestjs/common';
import { MittoClient } from '../mitto/mitto.client.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { mapOutcome } from './send-outcome-mapping.js';
import { toMittoMessage, type CallReport, type OutgoingSms, type PreparedCall, type SendContext, type SmsSender } from './sms-sender.js';

/**
 * The legacy flow, kept fully working: one `send` call per message. The batch service paces each call
 * with the rate limiter, writes its marker before and its outcome right after, so a crash costs at most
 * the one message in flight.
 */
@Injectable()
export class SingleSmsSender implements SmsSender {
  readonly mode = 'single' as const;

  constructor(
    private readonly mitto: MittoClient,
    private readonly metrics: MetricsService,
  ) {}

  prepare(ctx: SendContext, messages: readonly OutgoingSms[]): PreparedCall[] {
    return messages.map((m) => ({ messages: [m], request: this.mitto.prepareOne(ctx.apiKey, toMittoMessage(ctx, m)) }));
  }

  async send(call: PreparedCall): Promise<CallReport> {
    const end = this.metrics.mittoCalls.startTimer({ endpoint: 'send' });
    const outcome = await this.mitto.call(call.request);
    end({ outcome: outcome.kind });
    return mapOutcome(call.messages, outcome);
  }
}
