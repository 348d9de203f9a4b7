// `npm run demo`: an end-to-end demo against the local Mitto sandbox. Needs only PostgreSQL (127.0.0.1:5432,
// user postgres) and Redis (127.0.0.1:6379). It builds if needed, recreates the `bulk_sms_demo` database,
// starts the sandbox and the app on free ports (scripts/demo-support.mjs) and drives the HTTP API:
//   1. a 20,000-message campaign with a canary: its first 500 messages go out, the rest wait until enough
//      of those are delivered, then follow with a live progress bar;
//   2. a small campaign with a send window in each recipient's zone (scripts/demo-guard-rails.mjs): local
//      recipients go out, those abroad wait for their window; it then expires instead of waiting hours.
// Then it stops both processes. Exit code 0 on success, 1 on any failure.
import cliProgress from 'cli-progress';
import {
  ADMIN_KEY, DemoError, buildIfNeeded, cleanup, fmt, freePort, makeApi, recreateDatabase, sleep, startApp, startSandbox, step,
} from './demo-support.mjs';
import { followCanary, windowCampaign } from './demo-guard-rails.mjs';
import { createTenant } from './lib/harness.mjs';

const INITIAL_CREDITS = 100_000;
const RECIPIENTS = 20_000;
const CANARY = { size: 500, minDeliveredRate: 0.9, waitSeconds: 60 };
const AUTO_PAUSE = { maxFailureRate: 0.2, minMessages: 200 };
/** The second campaign expires this long after it is created. */
const WINDOW_CAMPAIGN_EXPIRES_MS = 20_000;

let activeBar = null; // stopped on SIGINT/SIGTERM so the terminal gets its cursor back

function buildCsv(suppressedIndex) {
  const names = ['Anna', 'Luca', 'Sofia', 'Noah', 'Mia', 'Leon', 'Emma', 'Elias', 'Lina', 'Jonas'];
  const phones = [];
  const rows = ['phone,name,code'];
  // Distinct numbers: a random base plus a stride coprime to 10^7, so every number is unique.
  const base = Math.floor(Math.random() * 1e7);
  for (let i = 0; i < RECIPIENTS; i++) {
    const phone = `+4179${String((base + i * 7919) % 1e7).padStart(7, '0')}`;
    phones.push(phone);
    rows.push(`${phone},${names[i % names.length]},BF${String(1000 + ((i * 37) % 9000))}`);
  }
  rows.push('12,Bad,BF0001', 'not-a-number,Bad,BF0002', '+999,Bad,BF0003');
  for (let i = 0; i < 5; i++) rows.push(`${phones[i * 1000 + 1]},Again,BF9999`);
  return { csv: rows.join('\n') + '\n', suppressedPhone: phones[suppressedIndex] };
}

// ----------------------------------------------------------------------------------------------- demo
async function main() {
  const started = Date.now();
  console.log('Bulk SMS demo: a 20,000-message campaign behind a canary, then a send window in each recipient\'s zone\n');
  await buildIfNeeded();
  await recreateDatabase();

  const [appPort, sandboxPort] = await Promise.all([freePort(), freePort()]);
  await startSandbox(sandboxPort, appPort);
  const app = await startApp(appPort, sandboxPort);
  const api = makeApi(`http://127.0.0.1:${appPort}`, app);
  console.log();

  const { body: tenant, trafficAccountId } = await createTenant(`http://127.0.0.1:${appPort}`, ADMIN_KEY, {
    name: 'Demo Marketing', credits: INITIAL_CREDITS, account: { name: 'Demo account', defaultSender: 'DEMO' },
  });
  step(`traffic account created: ${trafficAccountId} (sender DEMO)`);
  step(`tenant "Demo Marketing" created with ${fmt(tenant.credits?.balance ?? tenant.credits)} credits; API key ${String(tenant.apiKey).slice(0, 8)}…`);
  const auth = { Authorization: `Bearer ${tenant.apiKey}` };

  const text = 'Hi {{name}}, Black Friday: 30% off everything with code {{code}} until midnight!';
  const campaign = await api('POST', '/api/campaigns', {
    headers: auth, expect: 201, body: { name: 'Black Friday', text, canary: CANARY, autoPause: AUTO_PAUSE },
  });
  step(`campaign "Black Friday" created: ${campaign.id}`);
  console.log(`    canary: first ${CANARY.size} messages, the rest once ${CANARY.minDeliveredRate * 100} % of them are delivered`
    + ` (else it pauses itself after ${CANARY.waitSeconds} s); autoPause: above ${AUTO_PAUSE.maxFailureRate * 100} % failed`
    + ` or undelivered among the latest ≥ ${AUTO_PAUSE.minMessages} outcomes`);

  const { csv, suppressedPhone } = buildCsv(4242);
  await api('POST', '/api/suppressions', { headers: auth, expect: 201, body: { phone: suppressedPhone } });
  step(`suppressed ${suppressedPhone} (opted out)`);

  let t0 = Date.now();
  const imported = await api('POST', `/api/campaigns/${campaign.id}/recipients`, {
    headers: { ...auth, 'Content-Type': 'text/csv' }, body: csv, raw: true, expect: 200,
  });
  step(`CSV imported (${fmt(RECIPIENTS + 8)} rows, ${(Buffer.byteLength(csv) / 1024).toFixed(0)} KB) in ${Date.now() - t0} ms: `
    + `accepted ${fmt(imported.accepted)}, duplicates ${imported.duplicates}, suppressed ${imported.suppressed}, invalid ${imported.invalid}`);
  for (const s of imported.invalidSamples ?? []) console.log(`    invalid row ${s.row}: ${JSON.stringify(s.phone)}: ${s.reason}`);

  const est = await api('GET', `/api/campaigns/${campaign.id}/estimate`, { headers: auth, expect: 200 });
  step(`estimate: ${fmt(est.recipients)} recipients, ${fmt(est.segments)} segments, ${fmt(est.credits)} credits, ${est.encoding}`
    + (est.skipped ? `, ${est.skipped} skipped` : ''));

  t0 = Date.now();
  await api('POST', `/api/campaigns/${campaign.id}/enqueue`, { headers: auth, expect: 202 });
  const enqueuedAt = Date.now();
  step(`enqueued (202) in ${enqueuedAt - t0} ms\n`);

  await followCanary(api, auth, campaign.id, CANARY, enqueuedAt);
  const releasedAt = Date.now();
  const final = await followProgress(api, auth, campaign.id, releasedAt);

  // ------------------------------------------------------------------------------------------ report
  const { metrics: m, campaign: c } = final.status;
  const me = await api('GET', '/api/me', { headers: auth, expect: 200 });
  const sandbox = await api('GET', `http://127.0.0.1:${sandboxPort}/__sandbox/stats`, { expect: 200 });
  // Enqueue → completion, using the server's completedAt when it has one (same machine, same clock).
  const doneAt = c.completedAt ? Date.parse(c.completedAt) : final.completedAt;
  const sendSeconds = Math.max((doneAt - enqueuedAt) / 1000, 0.001);
  const afterCanary = Math.max((doneAt - releasedAt) / 1000, 0.001);
  const outcome = m.total - m.queued - m.skipped - final.doneAtStart;
  const used = INITIAL_CREDITS - me.credits.balance - me.credits.reserved;
  const pad = (label) => `  ${label}`.padEnd(26);
  console.log('\nFinal report');
  console.log(`${pad('campaign status')}${c.status}`);
  console.log(`${pad('messages')}${fmt(m.total)}`);
  console.log(`${pad('delivered')}${fmt(m.delivered)}`);
  console.log(`${pad('undelivered')}${fmt(m.undelivered)}`);
  console.log(`${pad('sent, awaiting report')}${fmt(m.sent)}`);
  console.log(`${pad('unknown')}${fmt(m.unknown)}`);
  console.log(`${pad('failed')}${fmt(m.failed)}`);
  console.log(`${pad('skipped / cancelled')}${fmt(m.skipped)} / ${fmt(m.cancelled)}`);
  console.log(`${pad('queued')}${fmt(m.queued)}`);
  console.log(`${pad('send duration')}${sendSeconds.toFixed(1)} s (enqueue → ${c.status}; ${(sendSeconds - afterCanary).toFixed(1)} s of it the canary)`);
  console.log(`${pad('throughput')}${fmt(Math.round(outcome / afterCanary))} msg/s after the canary`);
  console.log(`${pad('credits')}${fmt(used)} used, ${fmt(me.credits.balance)} left, ${fmt(me.credits.reserved)} reserved`);
  console.log(`${pad('sandbox')}accepted ${fmt(sandbox.accepted)} messages, ${fmt(sandbox.duplicateReferences)} duplicates`
    + ` (${fmt(sandbox.requests?.byEndpoint?.bulk ?? 0)} bulk requests)`);

  if (c.status !== 'completed') throw new DemoError(`campaign ended as ${c.status}`);
  if (sandbox.duplicateReferences !== 0) throw new DemoError(`sandbox saw ${sandbox.duplicateReferences} duplicate references`);

  await windowCampaign(api, auth, `http://127.0.0.1:${sandboxPort}`, WINDOW_CAMPAIGN_EXPIRES_MS);
  console.log(`\nDemo runtime ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The progress bar from `since` (the canary's release) to the end; the rate counts what went out since then. */
async function followProgress(api, auth, id, since) {
  const tty = Boolean(process.stdout.isTTY);
  const bar = new cliProgress.SingleBar({
    format: 'Sending |{bar}| {percentage}% | sent {sent} delivered {delivered} undelivered {undelivered} failed {failed} | {rate} msg/s | ETA {eta_formatted}',
    stream: process.stdout,
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
    hideCursor: tty,
    noTTYOutput: !tty,
    notTTYSchedule: 1000,
    fps: 10,
    etaBuffer: 20,
  });
  let started = false;
  let completedAt = null;
  let status;
  let doneAtStart = null;
  const deadline = Date.now() + 120_000;
  try {
    for (;;) {
      status = await api('GET', `/api/campaigns/${id}/status`, { headers: auth, expect: 200 });
      const m = status.metrics;
      const done = m.total - m.queued;
      doneAtStart ??= done - m.skipped;
      const elapsed = Math.max(((completedAt ?? Date.now()) - since) / 1000, 0.001);
      const payload = {
        sent: fmt(m.sent + m.unknown + m.delivered + m.undelivered),
        delivered: fmt(m.delivered),
        undelivered: fmt(m.undelivered),
        failed: fmt(m.failed),
        rate: fmt(Math.round((done - m.skipped - doneAtStart) / elapsed)),
      };
      if (!started) {
        bar.start(m.total, done, payload);
        started = true;
        activeBar = bar;
      } else {
        bar.setTotal(m.total);
        bar.update(done, payload);
      }
      const st = status.campaign.status;
      if (completedAt === null && (st === 'completed' || st === 'failed' || st === 'cancelled')) completedAt = Date.now();
      // After completion, wait (≤ 5 s) for the delivery reports of every accepted message.
      if (completedAt !== null && ((m.sent === 0 && m.unknown === 0) || Date.now() - completedAt > 5000)) break;
      if (Date.now() > deadline) throw new DemoError(`campaign still ${st} after 120 s: ${JSON.stringify(m)}`);
      await sleep(250);
    }
  } finally {
    if (started) bar.stop();
    activeBar = null;
  }
  return { status, completedAt, doneAtStart };
}

// ------------------------------------------------------------------------------------ entry / cleanup
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    activeBar?.stop();
    console.error(`\n${sig} received, stopping the app and the sandbox…`);
    cleanup().finally(() => process.exit(1));
  });
}

let exitCode = 0;
try {
  await main();
  console.log('\nDemo finished successfully.');
} catch (e) {
  exitCode = 1;
  console.error(`\nDemo failed: ${e instanceof DemoError ? e.message : (e?.stack ?? e)}`);
} finally {
  await cleanup();
}
process.exit(exitCode);
