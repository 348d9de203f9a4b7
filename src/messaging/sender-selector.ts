import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { BulkSmsSender } from './bulk-sms.sender.js';
import { SingleSmsSender } from './single-sms.sender.js';
import type { SmsSender } from './sms-sender.js';

/**
 * Picks the flow of a batch when it is leased (and only then: a batch in flight finishes in the mode it
 * started). `USE_BULK_SMS` is the default; both senders are injected providers and nothing else
 * branches on the flag.
 */
@Injectable()
export class SenderSelector {
  private readonly useBulk: boolean;

  constructor(
    private readonly bulk: BulkSmsSender,
    private readonly single: SingleSmsSender,
    config: ConfigService<AppConfig, true>,
  ) {
    this.useBulk = config.get('sending', { infer: true }).useBulk;
  }

  forBatch(): SmsSender {
    return this.useBulk ? this.bulk : this.single;
  }
}
