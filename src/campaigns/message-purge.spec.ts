import { describe, expect, it } from '@jest/globals';
import { MAX_CAMPAIGNS_PER_RUN, purgeDueMessages, type DueCampaign, type PurgeStore } from './message-purge.js';

interface FakeCampaign {
  id: string;
  started: boolean;
  done: boolean;
  seqs: number[];
  batches: number;
  /** Seqs another transaction holds (SKIP LOCKED leaves them). */
  locked: Set<number>;
}

/** campaign_messages, campaign_batches and the purge columns, in memory, with the statements' semantics. */
class FakeStore implements PurgeStore {
  readonly calls: string[] = [];
  constructor(readonly campaigns: FakeCampaign[]) {}

  static with(...sizes: Array<[messages: number, batches: number]>): FakeStore {
    return new FakeStore(sizes.map(([m, b], i) => ({
      id: `c${i}`, started: false, done: false, seqs: Array.from({ length: m }, (_, s) => s), batches: b, locked: new Set(),
    })));
  }

  private get(id: string): FakeCampaign {
    return this.campaigns.find((c) => c.id === id)!;
  }

  async due(_days: number, limit: number): Promise<DueCampaign[]> {
    return this.campaigns.filter((c) => !c.done).slice(0, limit).map((c) => ({ id: c.id, started: c.started }));
  }

  async markStarted(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    this.get(id).started = true;
  }

  async deleteMessages(id: string, afterSeq: number, limit: number) {
    const c = this.get(id);
    if (!c.started) throw new Error('deleted messages of a campaign whose purge had not begun');
    const chunk = c.seqs.filter((s) => s > afterSeq && !c.locked.has(s)).slice(0, limit);
    c.seqs = c.seqs.filter((s) => !chunk.includes(s));
    this.calls.push(`messages ${id} >${afterSeq} ≤${limit}: ${chunk.length}`);
    return { deleted: chunk.length, lastSeq: chunk.length > 0 ? chunk[chunk.length - 1] : null };
  }

  async deleteBatches(id: string, limit: number): Promise<number> {
    const c = this.get(id);
    const n = Math.min(limit, c.batches);
    c.batches -= n;
    this.calls.push(`batches ${id} ≤${limit}: ${n}`);
    return n;
  }

  async finish(id: string): Promise<boolean> {
    const c = this.get(id);
    c.done = c.seqs.length === 0 && c.batches === 0;
    return c.done;
  }
}

const settings = { retentionDays: 90, chunkRows: 10, rowsPerRun: 1_000 };

describe('message purge run', () => {
  it('deletes a campaign in chunks of at most chunkRows, messages from a seq cursor, then its batches, then marks it done', async () => {
    const store = FakeStore.with([25, 3]);
    const run = await purgeDueMessages(store, settings);
    expect(store.calls).toEqual([
      'start c0',
      'messages c0 >-1 ≤10: 10',
      'messages c0 >9 ≤10: 10',
      'messages c0 >19 ≤10: 5',
      'batches c0 ≤10: 3',
    ]);
    expect(run).toEqual({ finished: ['c0'], messages: 25, batches: 3, statements: 4 });
    expect(store.campaigns[0]).toMatchObject({ done: true, seqs: [], batches: 0 });
  });

  it('stops at rowsPerRun (the last chunk shrinks to fit) and goes on where it stopped in the next run', async () => {
    const store = FakeStore.with([30, 2], [5, 1]);
    const first = await purgeDueMessages(store, { ...settings, rowsPerRun: 24 });
    expect(first).toEqual({ finished: [], messages: 24, batches: 0, statements: 3 });
    expect(store.calls.slice(-1)).toEqual(['messages c0 >19 ≤4: 4']);
    expect(store.campaigns[1].started).toBe(false);

    const second = await purgeDueMessages(store, { ...settings, rowsPerRun: 24 });
    expect(second).toEqual({ finished: ['c0', 'c1'], messages: 11, batches: 3, statements: 4 });
    expect(store.calls.filter((c) => c.startsWith('start'))).toEqual(['start c0', 'start c1']);
  });

  it('never deletes more than rowsPerRun rows, whatever the chunk and the backlog', async () => {
    for (const [chunkRows, rowsPerRun] of [[1, 1], [7, 20], [10, 10], [1_000, 333], [3, 100]]) {
      const store = FakeStore.with([50, 4], [0, 0], [17, 2], [120, 7]);
      let total = 0;
      for (let runs = 1; store.campaigns.some((c) => !c.done); runs++) {
        const run = await purgeDueMessages(store, { retentionDays: 1, chunkRows, rowsPerRun });
        expect(run.messages + run.batches).toBeLessThanOrEqual(rowsPerRun);
        total += run.messages + run.batches;
        expect(runs).toBeLessThan(1_000);
      }
      expect(total).toBe(50 + 4 + 17 + 2 + 120 + 7);
    }
  });

  it('does not mark a campaign done while a row it skipped (locked) is left, and finishes it in a later run', async () => {
    const store = FakeStore.with([12, 1], [3, 1]);
    store.campaigns[0].locked.add(4);
    const first = await purgeDueMessages(store, settings);
    expect(first.finished).toEqual(['c1']);
    expect(store.campaigns[0]).toMatchObject({ done: false, seqs: [4], batches: 0 });

    store.campaigns[0].locked.clear();
    const second = await purgeDueMessages(store, settings);
    expect(second).toMatchObject({ finished: ['c0'], messages: 1 });
  });

  it('a campaign with nothing left (cancelled before any recipient) only gets marked', async () => {
    const store = FakeStore.with([0, 0]);
    expect(await purgeDueMessages(store, settings)).toEqual({ finished: ['c0'], messages: 0, batches: 0, statements: 2 });
  });

  it('with retention 0 touches nothing', async () => {
    const store = FakeStore.with([5, 1]);
    expect(await purgeDueMessages(store, { ...settings, retentionDays: 0 })).toEqual({ finished: [], messages: 0, batches: 0, statements: 0 });
    expect(store.calls).toEqual([]);
  });

  it('looks at no more than MAX_CAMPAIGNS_PER_RUN campaigns per run', async () => {
    const store = FakeStore.with(...Array.from({ length: MAX_CAMPAIGNS_PER_RUN + 5 }, () => [0, 0] as [number, number]));
    expect((await purgeDueMessages(store, settings)).finished).toHaveLength(MAX_CAMPAIGNS_PER_RUN);
    expect((await purgeDueMessages(store, settings)).finished).toHaveLength(5);
  });
});
