// Diagnostic behind docs/PERFORMANCE.md, "A campaign imported into a table without fresh statistics": the
// result write's cost per row in three shapes, at batches of 200 (the default) and 1000 (the largest
// SMS_BATCH_SIZE allowed), on a 100k campaign of the real schema (credits held), one connection, every
// variant from all-queued, vacuumed and checkpointed; three rounds, the order alternated. `old`: joined to
// unnest(seqs) (until 2026-12-01 16:40); `new`: join-free, outcomes as text[] indexed by seq - first;
// `json`: join-free, outcomes as jsonb arrays (as shipped).
//   npm run build && node scripts/bench/result-write-shapes.mjs
import { randomUUID } from 'node:crypto';
import { connectDb, createCampaign, createTenant, log, now, resetDatabase, startApp, stopProcess } from './harness.mjs';
import { seedRecipients } from './send-figures.mjs';
const SIZE = 100_000;
const OLD = `WITH u AS (SELECT * FROM unnest($2::int[], $3::text[], $4::text[], $6::text[], $6::text[]) AS u(seq, status, provider_id, error_code, error_message)),
  written AS (UPDATE campaign_messages m SET status = u.status, provider_message_id = coalesce(u.provider_id, m.provider_message_id),
      bulk_id = CASE WHEN u.status = 'sent' THEN $5 ELSE m.bulk_id END, error_code = u.error_code, error_message = u.error_message,
      sent_at = CASE WHEN u.status = 'sent' THEN now() ELSE m.sent_at END, retry_count = 1, updated_at = now()
    FROM u WHERE m.campaign_id = $1 AND m.seq = u.seq AND m.status IN ('queued', 'unknown') RETURNING m.id, m.provider_message_id),
  ids AS (INSERT INTO campaign_message_provider_ids (provider_message_id, message_id) SELECT provider_message_id, id FROM written ON CONFLICT DO NOTHING)
  SELECT count(*) FROM written`;
const NEW = `WITH written AS (UPDATE campaign_messages m SET status = ($3::text[])[m.seq - $2 + 1],
      provider_message_id = coalesce(($4::text[])[m.seq - $2 + 1], m.provider_message_id),
      bulk_id = CASE WHEN ($3::text[])[m.seq - $2 + 1] = 'sent' THEN $5 ELSE m.bulk_id END,
      error_code = ($6::text[])[m.seq - $2 + 1], error_message = ($6::text[])[m.seq - $2 + 1],
      sent_at = CASE WHEN ($3::text[])[m.seq - $2 + 1] = 'sent' THEN now() ELSE m.sent_at END, retry_count = 1, updated_at = now()
    WHERE m.campaign_id = $1 AND m.seq >= $2::int AND m.seq < $2::int + cardinality($3::text[])
      AND ($3::text[])[m.seq - $2 + 1] IS NOT NULL AND m.status IN ('queued', 'unknown') RETURNING m.id, m.provider_message_id),
  ids AS (INSERT INTO campaign_message_provider_ids (provider_message_id, message_id) SELECT provider_message_id, id FROM written ON CONFLICT DO NOTHING)
  SELECT count(*) FROM written`;
const JSONQ = `WITH written AS (UPDATE campaign_messages m SET status = ($3::jsonb) ->> (m.seq - $2),
      provider_message_id = coalesce(($4::jsonb) ->> (m.seq - $2), m.provider_message_id),
      bulk_id = CASE WHEN ($3::jsonb) ->> (m.seq - $2) = 'sent' THEN $5 ELSE m.bulk_id END,
      error_code = ($6::jsonb) ->> (m.seq - $2), error_message = ($6::jsonb) ->> (m.seq - $2),
      sent_at = CASE WHEN ($3::jsonb) ->> (m.seq - $2) = 'sent' THEN now() ELSE m.sent_at END, retry_count = 1, updated_at = now()
    WHERE m.campaign_id = $1 AND m.seq >= $2::int AND m.seq < $2::int + jsonb_array_length($3::jsonb)
      AND ($3::jsonb) ->> (m.seq - $2) IS NOT NULL AND m.status IN ('queued', 'unknown') RETURNING m.id, m.provider_message_id),
  ids AS (INSERT INTO campaign_message_provider_ids (provider_message_id, message_id) SELECT provider_message_id, id FROM written ON CONFLICT DO NOTHING)
  SELECT count(*) FROM written`;
await resetDatabase();
const db = await connectDb();
const app = await startApp(undefined, {});
let id;
try {
  const tenant = await createTenant(app, { rateLimitPerSecond: 1 });
  id = await createCampaign(tenant, 'rw', 'Hello {{n}}');
  await seedRecipients(db, id, SIZE);
  await tenant.api.expect(202, 'POST', `/api/campaigns/${id}/enqueue`);
  await tenant.api.expect(200, 'POST', `/api/campaigns/${id}/pause`);
} finally { await stopProcess(app.child); }
async function time(shape, batch) {
  await db.query(`UPDATE campaign_messages SET status = 'queued', provider_message_id = NULL, sent_at = NULL, bulk_id = NULL WHERE campaign_id = $1`, [id]);
  await db.query('TRUNCATE campaign_message_provider_ids');
  await db.query('VACUUM ANALYZE campaign_messages');
  await db.query('CHECKPOINT');
  const t0 = now();
  for (let from = 0; from < SIZE; from += batch) {
    const seqs = Array.from({ length: batch }, (_, i) => from + i);
    const stamp = Date.now().toString(36).padStart(10, '0');
    const pids = seqs.map((s) => `${stamp}${String(s).padStart(16, '0')}`);
    const values = shape === 'old' ? [id, seqs, seqs.map(() => 'sent'), pids, randomUUID(), seqs.map(() => null)]
      : shape === 'new' ? [id, from, seqs.map(() => 'sent'), pids, randomUUID(), seqs.map(() => null)]
      : [id, from, JSON.stringify(seqs.map(() => 'sent')), JSON.stringify(pids), randomUUID(), JSON.stringify(seqs.map(() => null))];
    await db.query({ name: `rw-${shape}-${batch}`, text: shape === 'old' ? OLD : shape === 'new' ? NEW : JSONQ, values });
  }
  return ((now() - t0) * 1000) / SIZE;
}
for (let round = 1; round <= 3; round++) {
  for (const batch of [200, 1000]) for (const shape of round % 2 ? ['old', 'json', 'new'] : ['json', 'new', 'old']) log(`round ${round} batch ${batch} ${shape}: ${(await time(shape, batch)).toFixed(2)} µs/row`);
}
await db.end();
