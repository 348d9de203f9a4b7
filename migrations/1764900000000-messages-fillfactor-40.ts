import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `campaign_messages` pages are filled to 40 % instead of half. The result write replaces a queued row
 * (~150 bytes with its header and line pointer, bench rows) by its sent version (~220 bytes: provider id,
 * bulk id, sent time), and a batch's 200 new versions are written in one statement, while the old ones are
 * still alive. For the update to stay HOT (no index touched) every row of a page needs room for its new
 * version on that page: n rows of 150 bytes leave room for n of 220 only when pages are filled to at
 * most ~41 %. At 50 %, 67 % of the sending updates were HOT, each of the others inserting into all three
 * indexes; at 40 %, 96 % (a 100k bench send, docs/PERFORMANCE.md "Sending: fill factor"). The price: the
 * table takes 25 % more pages for the same rows (imports write more pages, docs/PERFORMANCE.md "Import").
 * Pages already written keep their fill; new campaigns' rows get the new one.
 */
export class MessagesFillfactor401764900000000 implements MigrationInterface {
  name = 'MessagesFillfactor401764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaign_messages SET (fillfactor = 40)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE campaign_messages SET (fillfactor = 50)`);
  }
}
