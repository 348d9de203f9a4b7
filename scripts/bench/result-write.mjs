// Result-write section of the benchmark (`npm run bench -- result-write`): what PostgreSQL pays per message
// for the send's one write, taken apart. On a 100k campaign of the real schema (enqueued, so its credits are
// held, then paused), the statement of CampaignBatchesRepository.writeOutcomes in its essentials — 200 rows
// `queued` → `sent` by one `UPDATE` (outcomes as JSON arrays indexed by seq) and their provider ids into campaign_message_provider_ids —
// is run over one connection, 500 statements per round, with and without the provider-id insert (and with
// it in the form the write falls back to, ON CONFLICT DO NOTHING) and with and without the status
// trigger (counters, credits, ledger), next to the bare reference of the send
// section (`UPDATE … FROM unnest(…)` statements of 200 rows on a table with only a primary key). Five rounds, the order rotated, each variant
// (and the reference) from a fresh CHECKPOINT so that all pay the same full-page writes; medians.
// Provider ids are time-ordered like Mitto's (and the sandbox's) ULIDs.
import { randomUUID } from 'node:crypto';
import { connectDb, createCampaign, createTenant, fmt, log, machineTable, median, now, resetDatabase, startApp, stopProcess } from './harness.mjs';
import { bareReference, seedRecipients } from './send-figures.mjs';

const SIZE = 100_000;
const ROUNDS = 5;
const TRIGGER = 'tr_campaign_messages_status_moved';

const VARIANTS = [
  { key: 'full', label: 'as the send writes it: update + provider ids + trigger', providerIds: true, trigger: true },
  { key: 'onConflict', label: 'provider ids inserted with ON CONFLICT DO NOTHING', providerIds: 'onConflict', trigger: true },
  { key: 'noProvider', label: 'without the provider-id insert', providerIds: false, trigger: true },
  { key: 'noTrigger', label: 'without the status trigger', providerIds: true, trigger: false },
  { key: 'neither', label: 'the UPDATE alone (neither)', providerIds: false, trigger: false },
];

export async function runResultWrite(machine) {
  await resetDatabase();
  const db = await connectDb();
  try {
    const campaignId = await prepareCampaign(db);
    const times = Object.fromEntries([...VARIANTS.map((v) => v.key), 'bare'].map((k) => [k, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      // Rotated each round, so that no variant always runs first (after a checkpoint, say).
      for (const v of [...VARIANTS.slice(round - 1), ...VARIANTS.slice(0, round - 1)]) {
        times[v.key].push(await timeVariant(db, campaignId, v));
        log(`  round ${round}, ${v.key}: ${times[v.key].at(-1).toFixed(1)} µs/row`);
      }
      await db.query('CHECKPOINT');
      times.bare.push(1e6 / (await bareReference(db, SIZE)));
      log(`  round ${round}, bare reference: ${times.bare.at(-1).toFixed(1)} µs/row`);
    }
    return report(times, machine);
  } finally {
    await db.query(`ALTER TABLE campaign_messages ENABLE TRIGGER ${TRIGGER}`).catch(() => undefined);
    await db.end();
  }
}

/** A 100k campaign whose credits are held (enqueued at 1 request/s, paused at once), the app stopped after. */
async function prepareCampaign(db) {
  const app = await startApp(undefined, {});
  try {
    const tenant = await createTenant(app, { rateLimitPerSecond: 1 });
    const id = await createCampaign(tenant, 'result write', 'Hello {{n}}, this is the benchmark');
    await seedRecipients(db, id, SIZE);
    await tenant.api.expect(202, 'POST', `/api/campaigns/${id}/enqueue`);
    await tenant.api.expect(200, 'POST', `/api/campaigns/${id}/pause`);
    return id;
  } finally {
    await stopProcess(app.child);
  }
}

/** µs per row of 500 statements of 200 rows, from all messages `queued` (reset, vacuumed) each time. */
async function timeVariant(db, campaignId, v) {
  await db.query(`UPDATE campaign_messages SET status = 'queued', provider_message_id = NULL, sent_at = NULL, bulk_id = NULL WHERE campaign_id = $1`, [campaignId]);
  await db.query('TRUNCATE campaign_message_provider_ids');
  await db.query('VACUUM ANALYZE campaign_messages');
  await db.query(`ALTER TABLE campaign_messages ${v.trigger ? 'ENABLE' : 'DISABLE'} TRIGGER ${TRIGGER}`);
  await db.query('CHECKPOINT');
  // The SET list and WHERE clause of writeOutcomes (every element lookup it makes), with no errors.
  const sql = `WITH written AS (
      UPDATE campaign_messages m
         SET status = ($3::jsonb) ->> (m.seq - $2),
             provider_message_id = coalesce(($4::jsonb) ->> (m.seq - $2), m.provider_message_id),
             bulk_id = CASE WHEN ($3::jsonb) ->> (m.seq - $2) = 'sent' THEN $5 ELSE m.bulk_id END,
             error_code = ($6::jsonb) ->> (m.seq - $2), error_message = ($6::jsonb) ->> (m.seq - $2),
             sent_at = CASE WHEN ($3::jsonb) ->> (m.seq - $2) = 'sent' THEN now() ELSE m.sent_at END,
             retry_count = 1, updated_at = now()
       WHERE m.campaign_id = $1 AND m.seq >= $2::int AND m.seq < $2::int + jsonb_array_length($3::jsonb)
         AND ($3::jsonb) ->> (m.seq - $2) IS NOT NULL AND m.status IN ('queued', 'unknown')
      RETURNING m.id, m.provider_message_id)
    ${v.providerIds ? `, ids AS (INSERT INTO campaign_message_provider_ids (provider_message_id, message_id)
      SELECT provider_message_id, id FROM written${v.providerIds === 'onConflict' ? ' ON CONFLICT DO NOTHING' : ''})` : ''}
    SELECT count(*) FROM written`;
  const t0 = now();
  for (let from = 0; from < SIZE; from += 200) {
    const seqs = Array.from({ length: 200 }, (_, i) => from + i);
    const stamp = Date.now().toString(36).padStart(10, '0');
    await db.query({
      name: `result-write-${v.key}`,
      text: sql,
      values: [
        campaignId, from, JSON.stringify(seqs.map(() => 'sent')), JSON.stringify(seqs.map((s) => `${stamp}${String(s).padStart(16, '0')}`)),
        randomUUID(), JSON.stringify(seqs.map(() => null)),
      ],
    });
  }
  const us = ((now() - t0) * 1000) / SIZE;
  await db.query(`ALTER TABLE campaign_messages ENABLE TRIGGER ${TRIGGER}`);
  return us;
}

function report(times, machine) {
  const lines = [`Run on ${machine.date}: ${SIZE.toLocaleString('en-US')}-message campaign (credits held), one connection, 500 statements of 200 rows per round; ${ROUNDS} rounds, the order rotated, each variant from a fresh checkpoint; medians (min – max).`, ''];
  lines.push(...machineTable(machine, `${machine.loadavg()} (at the end)`));
  lines.push('| result write | µs per row | min – max | rows/s | vs the UPDATE alone |', '|---|---|---|---|---|');
  const base = median(times.neither);
  const row = (label, xs) => `| ${label} | **${median(xs).toFixed(1)}** | ${Math.min(...xs).toFixed(1)} – ${Math.max(...xs).toFixed(1)} | ${fmt.rate(1e6 / median(xs))} | ${(median(xs) / base).toFixed(2)}× |`;
  for (const v of VARIANTS) lines.push(row(v.label, times[v.key]));
  lines.push(row('bare reference (table with only a primary key)', times.bare));
  return lines.join('\n');
}
