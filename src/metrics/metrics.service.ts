import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const PREFIX = 'bulksms_';
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles', 'nodejs_active_requests', 'nodejs_active_resources'];

/**
 * Every Prometheus metric of the process, defined once. Gauges that describe shared state (messages
 * by status, queue depth) are collected on scrape by the /metrics controller.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly mittoCalls = new Histogram({
    name: 'bulksms_mitto_call_seconds',
    help: 'Latency of Mitto API calls, by endpoint and outcome class',
    labelNames: ['endpoint', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly messagesProcessed = new Counter({
    name: 'bulksms_messages_processed_total',
    help: 'Messages whose send attempt ended, by resulting status and flow (bulk, single)',
    labelNames: ['status', 'mode'] as const,
    registers: [this.registry],
  });

  readonly batchSeconds = new Histogram({
    name: 'bulksms_batch_seconds',
    help: 'Batch processing time: lease, Mitto call(s), outcomes written',
    labelNames: ['mode'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly resultWriteRetries = new Counter({
    name: 'bulksms_result_write_retries_total',
    help: 'Result writes of batches retried after a transient database error (the outcomes were kept)',
    registers: [this.registry],
  });

  readonly providerIdsRepeated = new Counter({
    name: 'bulksms_provider_ids_repeated_total',
    help: 'Result writes in which Mitto answered with a provider id already recorded (written all the same; the id stays with the message recorded first)',
    registers: [this.registry],
  });

  readonly batchTakeovers = new Counter({
    name: 'bulksms_batch_takeovers_total',
    help: 'Batches leased after their previous holder abandoned them (crash, lost lease)',
    registers: [this.registry],
  });

  readonly batchesRecovered = new Counter({
    name: 'bulksms_batches_recovered_total',
    help: 'Pending batches the recovery sweep handed to a fresh job (their job failed for good or vanished)',
    registers: [this.registry],
  });

  readonly reconcileGivenUp = new Counter({
    name: 'bulksms_reconcile_given_up_total',
    help: 'Batches whose sent messages still had no final status at RECONCILE_HORIZON_MS and are no longer looked up',
    registers: [this.registry],
  });

  readonly messagesPurged = new Counter({
    name: 'bulksms_messages_purged_total',
    help: 'Message rows deleted by MESSAGE_RETENTION_DAYS (campaigns settled longer ago; their metrics stay)',
    registers: [this.registry],
  });

  readonly rateLimitWaits = new Counter({
    name: 'bulksms_rate_limit_waits_total',
    help: 'Batches or calls that had to wait for the rate limiter, by scope',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });

  readonly rateLimitRegrants = new Counter({
    name: 'bulksms_rate_limit_regrants_total',
    help: 'Permits given back and taken again because the call could not leave within the arrival margin of its grant',
    registers: [this.registry],
  });

  readonly rateLimitFailOpen = new Counter({
    name: 'bulksms_rate_limit_fail_open_total',
    help: 'Rate-limit checks that could not reach Redis and let the send proceed',
    registers: [this.registry],
  });

  readonly webhookReports = new Counter({
    name: 'bulksms_webhook_reports_total',
    help: 'Delivery reports received, by result (updated, unchanged, unknown, invalid)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly apiRequestsLimited = new Counter({
    name: 'bulksms_api_requests_limited_total',
    help: 'API requests refused with 429 by the API request limit, by what the budget belongs to (tenant, admin, address)',
    labelNames: ['by'] as const,
    registers: [this.registry],
  });

  readonly messagesByStatus = new Gauge({
    name: 'bulksms_messages',
    help: 'Messages of active campaigns (sending, paused) by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly campaignSendMode = new Gauge({
    name: 'bulksms_campaign_send_mode',
    help: 'Sending campaigns and the flow their next batches use (1 per campaign; from the tenant\'s bulkSending and USE_BULK_SMS)',
    labelNames: ['campaign_id', 'tenant_id', 'mode'] as const,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'bulksms_queue_jobs',
    help: 'Jobs in the batch queue, by state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    for (const name of MISNAMED_DEFAULT_GAUGES) this.rename(`${PREFIX}${name}_total`, `${PREFIX}${name}_all`);
  }

  /**
   * prom-client's defaults include three gauges named `…_total`, a suffix Prometheus reserves for counters
   * (`promtool check metrics` fails them). Each is the sum of its per-type sibling (`…{type}`); it is kept
   * under a name without the suffix, computed by the original collector.
   */
  private rename(from: string, to: string): void {
    const original = this.registry.getSingleMetric(from);
    if (!original) throw new Error(`default metric ${from} not found (prom-client changed its defaults?)`);
    this.registry.removeSingleMetric(from);
    new Gauge({
      name: to,
      help: `${(original as unknown as { help: string }).help} (all types together)`,
      registers: [this.registry],
      async collect() {
        const { values } = await original.get();
        this.set(values[0]?.value ?? 0);
      },
    });
  }
}
