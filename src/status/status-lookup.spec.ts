import { describe, expect, it } from '@jest/globals';
import type { MittoClient } from '../mitto/mitto.client.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { RateLimiterService } from '../rate-limiting/rate-limiter.service.js';
import { batchesToReschedule, completedBatches } from './reconciliation.service.js';
import { StatusLookupService, askedPrefix, type LookupTarget } from './status-lookup.service.js';
import type { StatusWriter } from './status-writer.service.js';
import type { LookupAccount } from './traffic-accounts.lookup.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A lookup service whose rate limiter answers each permit request with `plan(n)` (n = 0, 1, … in the
 * order the requests come) after `delayMs(n)`; Mitto answers every lookup with "not found".
 */
function service(plan: (n: number) => boolean, delayMs: (n: number) => number = () => 0) {
  let requests = 0;
  const asked: string[] = [];
  const limiter = {
    acquireWithin: async () => {
      const n = requests++;
      await sleep(delayMs(n));
      return { granted: plan(n), n };
    },
    refreshIfLate: async (_keys: unknown, permit: { granted: boolean }) => permit,
  } as unknown as RateLimiterService;
  const mitto = {
    getMessage: async (_key: string, id: string) => {
      asked.push(id);
      return { kind: 'not-found' };
    },
  } as unknown as MittoClient;
  const metrics = { mittoCalls: { startTimer: () => () => undefined } } as unknown as MetricsService;
  const writer = { write: async () => [] } as unknown as StatusWriter;
  return { lookups: new StatusLookupService(mitto, limiter, writer, metrics), asked };
}

const account: LookupAccount = { apiKey: 'k', limits: {} as LookupAccount['limits'] };
const targets = (n: number, campaignId = 'c'): LookupTarget[] =>
  Array.from({ length: n }, (_, i) => ({ id: `m${i}`, campaignId, providerMessageId: `p${i}` }));

describe('StatusLookupService.lookUp: which targets were asked', () => {
  it('all asked: the prefix is every target', async () => {
    const { lookups, asked } = service(() => true);
    const summary = await lookups.lookUp(targets(5), new Map([['c', account]]), { concurrency: 2, maxPermitWaitMs: 100 });
    expect({ ...summary, askedPrefix: askedPrefix(summary.asked) }).toMatchObject({ attempted: 5, askedPrefix: 5, notFound: 5 });
    expect([...summary.asked]).toEqual([1, 1, 1, 1, 1]);
    expect(asked.sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
  });

  // Two lookups in flight: the first waits for its permit and does not get it, the second gets its own
  // at once and asks. One target was asked, but not the first one: a cursor must not move past it.
  it('a permit refused to an earlier target while a later one was asked: the prefix stops before it', async () => {
    const { lookups, asked } = service((n) => n !== 0, (n) => (n === 0 ? 30 : 0));
    const summary = await lookups.lookUp(targets(4), new Map([['c', account]]), { concurrency: 2, maxPermitWaitMs: 100 });
    expect(asked).toContain('p1');
    expect(asked).not.toContain('p0');
    expect(summary.stoppedBy).toBe('rate-limit');
    expect(summary.attempted).toBeGreaterThanOrEqual(1);
    expect(askedPrefix(summary.asked)).toBe(0);
    expect(summary.asked[0]).toBe(0);
    expect(summary.asked[1]).toBe(1);
  });

  it('a target whose campaign has no account counts as done for the prefix (nothing to ask with)', async () => {
    const { lookups } = service(() => true);
    const list = [...targets(1, 'none'), ...targets(2)];
    const summary = await lookups.lookUp(list, new Map([['c', account]]), { concurrency: 1, maxPermitWaitMs: 100 });
    expect({ ...summary, askedPrefix: askedPrefix(summary.asked) }).toMatchObject({ attempted: 2, askedPrefix: 3 });
  });
});

describe('completedBatches', () => {
  const due = [
    { campaignId: 'c', seqFrom: 0, seqTo: 100 },
    { campaignId: 'c', seqFrom: 100, seqTo: 200 },
  ] as Parameters<typeof completedBatches>[0];
  const list = [{ campaignId: 'c', seq: 5 }, { campaignId: 'c', seq: 6 }, { campaignId: 'c', seq: 150 }];

  it('a batch is complete only when every one of its targets was asked, wherever the others stand', () => {
    expect(completedBatches(due, list, Uint8Array.of(1, 1, 1), false)).toEqual(due);
    expect(completedBatches(due, list, Uint8Array.of(1, 1, 0), false)).toEqual([due[0]]);
    // The first target was not asked (a later one was): its batch stays due, the other is done.
    expect(completedBatches(due, list, Uint8Array.of(0, 1, 1), false)).toEqual([due[1]]);
    // A truncated list: the batch of its last target may have more to ask.
    expect(completedBatches(due, list, Uint8Array.of(1, 1, 1), true)).toEqual([due[0]]);
  });

  it('a due batch without targets (nothing left to ask) is complete', () => {
    expect(completedBatches(due, [list[2]], Uint8Array.of(1), false)).toEqual(due);
  });
});

describe('batchesToReschedule', () => {
  const due = [
    { campaignId: 'c', seqFrom: 0, seqTo: 100 },
    { campaignId: 'c', seqFrom: 100, seqTo: 200 },
  ] as Parameters<typeof batchesToReschedule>[0];
  const list = [{ campaignId: 'c', seq: 5 }, { campaignId: 'c', seq: 150 }];

  it('a run Mitto stopped (down, or throttling us) moves every due batch on, asked or not', () => {
    expect(batchesToReschedule(due, list, { asked: Uint8Array.of(1, 0), stoppedBy: 'mitto-unavailable' }, false)).toEqual(due);
    expect(batchesToReschedule(due, list, { asked: Uint8Array.of(0, 0), stoppedBy: 'mitto-throttled' }, false)).toEqual(due);
  });

  it('a run our own rate limit stopped moves on only the batches it asked about in full', () => {
    expect(batchesToReschedule(due, list, { asked: Uint8Array.of(1, 0), stoppedBy: 'rate-limit' }, false)).toEqual([due[0]]);
    expect(batchesToReschedule(due, list, { asked: Uint8Array.of(1, 1) }, false)).toEqual(due);
  });
});
