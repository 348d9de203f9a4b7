// The guard-rail parts of `npm run demo` (scripts/demo.mjs): following a canary until it passes, and a
// campaign whose recipients abroad wait for their send window while the local ones go out, until it expires.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DemoError, fmt, queryDemoDb, ROOT, sleep, step } from './demo-support.mjs';

const HOUR_MS = 3_600_000;
const pct = (x) => `${Math.round(x * 100)} %`;
/** Messages whose Mitto call is over (queued, skipped, cancelled and expired ones have not gone out). */
const wentOut = (m) => m.sent + m.unknown + m.delivered + m.undelivered + m.failed;

/** Polls the campaign (enqueued at `enqueuedAt`) until its canary is judged; prints the hold and the verdict. */
export async function followCanary(api, auth, id, canary, enqueuedAt) {
  let shown = false;
  for (;;) {
    const { campaign: c, metrics: m } = await api('GET', `/api/campaigns/${id}/status`, { headers: auth, expect: 200 });
    if (!shown && c.canaryState === 'pending' && wentOut(m) >= canary.size) {
      shown = true;
      step(`canary: the first ${fmt(wentOut(m))} messages went to Mitto; the other ${fmt(m.queued)} are held (still queued)`
        + ` until ${pct(canary.minDeliveredRate)} of the canary has a delivery report`);
    }
    if (c.canaryState === 'passed') {
      const after = ((Date.now() - enqueuedAt) / 1000).toFixed(1);
      step(`canary passed ${after} s after enqueue (the sandbox reports 1.5 s after sending): ${fmt(m.delivered)} of`
        + ` ${fmt(canary.size)} delivered → the other ${fmt(m.total - m.skipped - canary.size)} are released\n`);
      return;
    }
    if (c.status !== 'sending') throw new DemoError(`canary: campaign ${c.status} (${c.pauseReason ?? 'no reason'}), canary ${c.canaryState}`);
    if (Date.now() - enqueuedAt > (canary.waitSeconds + 30) * 1000) throw new DemoError(`canary still ${c.canaryState}: ${JSON.stringify(m)}`);
    await sleep(200);
  }
}

/** HH:MM of `date` on the clock of `zone`. */
function clock(date, zone) {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(date);
}
const hhmm = (minutes) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
const inHours = (ms) => `${Math.floor(ms / HOUR_MS)} h ${String(Math.round((ms % HOUR_MS) / 60_000)).padStart(2, '0')} min`;
const utc = (date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * A campaign with a send window in each recipient's zone: Swiss numbers (inside it) go out at once, New York
 * numbers (zone from the +1 212 area code) and a recipient with a `timeZone` variable (Asia/Tokyo) wait.
 * The window is set around the current time in Zurich, so both sides show at any hour of the day. The
 * waiting messages are not sent: the demo shows where they wait, then lets the campaign expire.
 */
export async function windowCampaign(api, auth, sandboxUrl, expiresInMs) {
  const load = (file) => import(pathToFileURL(path.join(ROOT, 'dist/src/guard-rails', file)).href);
  const { nextOpening } = await load('send-window.js');
  const { zoneOfRecipient } = await load('recipient-zone.js');

  const now = new Date();
  const [h] = clock(now, 'Europe/Zurich').split(':').map(Number);
  const sendWindow = { start: hhmm(((h + 23) % 24) * 60), end: hhmm(((h + 3) % 24) * 60) };
  const expiresAt = new Date(Date.now() + expiresInMs);
  const base = Math.floor(Math.random() * 1e6);
  const recipients = [
    ...Array.from({ length: 6 }, (_, i) => ({ phone: `+41791${String(base + i).padStart(6, '0')}`, variables: { name: `Zurich ${i + 1}` } })),
    ...Array.from({ length: 3 }, (_, i) => ({ phone: `+1212555${String(100 + i).padStart(4, '0')}`, variables: { name: `New York ${i + 1}` } })),
    { phone: `+41792${String(base).padStart(6, '0')}`, variables: { name: 'Tokyo', timeZone: 'Asia/Tokyo' } },
  ];
  console.log(`\nSecond campaign "Store hours": sendWindow ${sendWindow.start}–${sendWindow.end} in each recipient's own zone`
    + ` (set around the time in Zurich, so the demo shows both sides at any hour), expiresAt in ${expiresInMs / 1000} s`);
  const campaign = await api('POST', '/api/campaigns', {
    headers: auth, expect: 201,
    body: { name: 'Store hours', text: 'Hi {{name}}, our store is open now: come by!', sendWindow, expiresAt: expiresAt.toISOString() },
  });
  const imported = await api('POST', `/api/campaigns/${campaign.id}/recipients`, { headers: auth, expect: 200, body: { recipients } });
  if (imported.accepted !== recipients.length) throw new DemoError(`import: ${JSON.stringify(imported)}`);

  // The app's own arithmetic (the built guard-rails module): each recipient's zone and next opening.
  const groups = new Map();
  for (const r of recipients) {
    const zone = zoneOfRecipient(r.phone, r.variables, 'UTC');
    const how = r.variables.timeZone ? 'timeZone variable' : `${r.phone.startsWith('+1') ? `+1 ${r.phone.slice(2, 5)}` : r.phone.slice(0, 3)} number`;
    const key = `${zone} (${how})`;
    const g = groups.get(key) ?? { zone, phones: [], opens: nextOpening(sendWindow, zone, now) };
    g.phones.push(r.phone);
    groups.set(key, g);
  }
  step(`${recipients.length} recipients imported; zone of each from a timeZone variable, else from the number:`);
  for (const [key, g] of groups) {
    const open = g.opens.getTime() <= now.getTime();
    console.log(`    ${g.phones.length} × ${key.padEnd(38)} local time ${clock(now, g.zone)} → ${open ? 'inside the window' : 'outside: waits'}`);
  }
  const waiting = [...groups.values()].filter((g) => g.opens.getTime() > now.getTime());
  const waitingCount = waiting.reduce((n, g) => n + g.phones.length, 0);

  const enqueuedAt = Date.now();
  await api('POST', `/api/campaigns/${campaign.id}/enqueue`, { headers: auth, expect: 202 });
  let s;
  for (;;) {
    s = await api('GET', `/api/campaigns/${campaign.id}/status`, { headers: auth, expect: 200 });
    if (s.metrics.sent === 0 && wentOut(s.metrics) === recipients.length - waitingCount) break;
    if (Date.now() - enqueuedAt > 30_000) throw new DemoError(`the local recipients did not go out: ${JSON.stringify(s.metrics)}`);
    await sleep(200);
  }
  const m = s.metrics;
  step(`enqueued; after ${((Date.now() - enqueuedAt) / 1000).toFixed(1)} s: ${wentOut(m)} went to Mitto (${m.delivered} delivered,`
    + ` ${m.undelivered} undelivered), ${m.queued} still queued; campaign ${s.campaign.status}`);
  for (const g of waiting) {
    console.log(`    ${g.phones.length} waiting until ${clock(g.opens, g.zone)} ${g.zone} (${utc(g.opens)}, in ${inHours(g.opens.getTime() - Date.now())})`);
  }
  const [batch] = await queryDemoDb(`SELECT batch, state, not_before FROM campaign_batches WHERE campaign_id = $1 AND state = 'pending'`, [campaign.id]);
  const delayed = /bulksms_queue_jobs\{state="delayed"\} (\d+)/.exec(await api('GET', '/metrics', { expect: 200, text: true }))?.[1];
  const atSandbox = (await Promise.all(waiting.flatMap((g) => g.phones).map((p) =>
    api('GET', `${sandboxUrl}/__sandbox/messages?destination=${encodeURIComponent(p)}`, { expect: 200 })))).flat().length;
  console.log(`    the app: batch ${batch?.batch} ${batch?.state}, not leased before ${batch?.not_before ? utc(new Date(batch.not_before)) : '-'}`
    + ` (the earliest opening); ${delayed ?? '?'} delayed job in BullMQ, no polling; the sandbox got ${atSandbox} messages for them`);
  if (atSandbox !== 0 || m.queued !== waitingCount) throw new DemoError('a waiting recipient was sent to');

  step(`nobody waits hours for a demo: at expiresAt (${expiresAt.toISOString().slice(11, 19)} UTC) the waiting messages expire…`);
  for (;;) {
    s = await api('GET', `/api/campaigns/${campaign.id}/status`, { headers: auth, expect: 200 });
    if (s.campaign.status !== 'sending' && s.metrics.sent === 0) break;
    if (Date.now() > expiresAt.getTime() + 30_000) throw new DemoError(`campaign still ${s.campaign.status} after expiresAt: ${JSON.stringify(s.metrics)}`);
    await sleep(500);
  }
  const late = ((Date.parse(s.campaign.completedAt) - expiresAt.getTime()) / 1000).toFixed(1);
  step(`expired: ${s.metrics.expired} messages \`expired\`, their credits returned (campaign holds ${s.creditsReserved} credits);`
    + ` campaign ${s.campaign.status} ${late} s after expiresAt (the sweep runs every 5 s)`);
  if (s.campaign.status !== 'completed' || s.metrics.expired !== waitingCount || s.creditsReserved !== 0) {
    throw new DemoError(`the waiting campaign did not expire as expected: ${s.campaign.status} ${JSON.stringify(s.metrics)}`);
  }
}
