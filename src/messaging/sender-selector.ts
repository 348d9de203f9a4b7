import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app.config.js';
import { BulkSmsSender } from './bulk-sms.sender.js';
import { SingleSmsSender } from './single-sms.sender.js';
import type { SmsSender } from './sms-sender.js';
import { usesBulk, type BulkSending } from '../tenants/bulk-sending.js';

/**
 * Picks the flow of a batch when it is leased (and only then: a batch in flight finishes in the mode it
 * started), from the tenant's `bulkSending` and `USE_BULK_SMS` (bulk-sending.ts). Both senders are
 * injected providers and nothing else branches on the flag.
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

  forTenant(setting: BulkSending): SmsSender {
    return usesBulk(setting, this.useBulk) ? this.bulk : this.single;
  }
}
