/**
 * The loop of one message-retention run, free of SQL so it can be checked on its own (message-purge.spec.ts).
 * The statements behind `PurgeStore` are in message-retention.repository.ts.
 *
 * A run works through the due campaigns oldest first and stops once it has deleted `rowsPerRun` rows,
 * so a backlog (the first run after retention is switched on, a day of 10M messages) is worked off over
 * several runs, each of bounded cost. Every statement deletes at most `chunkRows` rows and commits on its
 * own: short transactions, a bounded amount of WAL each, and locks only on rows of a settled campaign.
 */
export interface PurgeSettings {
  /** Campaigns settled longer ago than this many days are purged; 0 keeps every message forever. */
  retentionDays: number;
  /** Rows per DELETE statement. */
  chunkRows: number;
  /** Rows (messages and batches) deleted per run at most. */
  rowsPerRun: number;
}

export interface DueCampaign {
  id: string;
  /** Its purge began in an earlier run (messages_purged_at is set). */
  started: boolean;
}

export interface PurgeStore {
  due(retentionDays: number, limit: number): Promise<DueCampaign[]>;
  markStarted(campaignId: string): Promise<void>;
  /** Deletes up to `limit` of the campaign's messages with seq > `afterSeq`, in seq order, with their provider ids. */
  deleteMessages(campaignId: string, afterSeq: number, limit: number): Promise<{ deleted: number; lastSeq: number | null }>;
  deleteBatches(campaignId: string, limit: number): Promise<number>;
  /** Marks the campaign done if none of its rows is left; false if some are (a row locked by someone else). */
  finish(campaignId: string): Promise<boolean>;
}

export interface PurgeRun {
  /** Campaigns whose purge finished in this run. */
  finished: string[];
  messages: number;
  batches: number;
  /** DELETE statements run. */
  statements: number;
}

/** Campaigns looked at per run; the rest wait for the next run (each costs at least three statements). */
export const MAX_CAMPAIGNS_PER_RUN = 100;

export async function purgeDueMessages(store: PurgeStore, s: PurgeSettings): Promise<PurgeRun> {
  const run: PurgeRun = { finished: [], messages: 0, batches: 0, statements: 0 };
  if (s.retentionDays <= 0) return run;
  const left = () => s.rowsPerRun - run.messages - run.batches;
  for (const c of await store.due(s.retentionDays, MAX_CAMPAIGNS_PER_RUN)) {
    if (left() <= 0) break;
    if (!c.started) await store.markStarted(c.id);
    // Messages first, in seq order from a cursor, so no statement walks over the rows its predecessors deleted.
    let afterSeq = -1;
    let messagesLeft = true;
    while (messagesLeft && left() > 0) {
      const limit = Math.min(s.chunkRows, left());
      const r = await store.deleteMessages(c.id, afterSeq, limit);
      run.statements++;
      run.messages += r.deleted;
      if (r.lastSeq !== null) afterSeq = r.lastSeq;
      messagesLeft = r.deleted === limit;
    }
    if (messagesLeft) break;
    let batchesLeft = true;
    while (batchesLeft && left() > 0) {
      const limit = Math.min(s.chunkRows, left());
      const deleted = await store.deleteBatches(c.id, limit);
      run.statements++;
      run.batches += deleted;
      batchesLeft = deleted === limit;
    }
    if (batchesLeft) break;
    if (await store.finish(c.id)) run.finished.push(c.id);
  }
  return run;
}
