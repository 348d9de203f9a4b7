// Micro-benchmark of the guard-rails library (send windows, recipient zones) on the built code:
// `npm run build && npm run bench:guard-rails`. Prints µs per call (median of 5 rounds, after a warm-up).
// No database, no network; a few seconds of one core. Knob (env): GUARD_RAILS_BENCH_N (1000000 calls per round).
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib/harness.mjs';

const load = (file) => import(pathToFileURL(path.join(ROOT, 'dist/src/guard-rails', file)).href);
const { isOpen, nextOpening, closesAt } = await load('send-window.js');
const { zoneOfRecipient, preloadRecipientZones } = await load('recipient-zone.js');

const N = Number(process.env.GUARD_RAILS_BENCH_N ?? 1_000_000);
const ROUNDS = 5;

/** µs per call of `fn(i)` for i in [0, n): median of ROUNDS rounds after one warm-up round. */
function measure(n, fn) {
  const times = [];
  let sink = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (fn(i)) sink++;
    const elapsed = Number(process.hrtime.bigint() - started) / 1000 / n;
    if (round > 0) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  return { us: times[Math.floor(ROUNDS / 2)], min: times[0], max: times[ROUNDS - 1], sink };
}

function report(label, n, result) {
  console.log(`${label.padEnd(62)} ${result.us.toFixed(3).padStart(8)} µs/call  (min ${result.min.toFixed(3)}, max ${result.max.toFixed(3)}; ${n} calls/round)`);
}

console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}`);

// --- send windows -----------------------------------------------------------------------------
const office = { start: '09:00', end: '20:00', days: [1, 2, 3, 4, 5, 6] };
const now = Date.parse('2026-03-27T15:00:00Z');
const ZONES = ['Europe/Zurich', 'America/New_York', 'America/Los_Angeles', 'America/Chicago', 'Europe/London', 'Europe/Berlin',
  'Europe/Moscow', 'Asia/Novosibirsk', 'Asia/Tokyo', 'Australia/Sydney', 'Australia/Perth', 'America/Sao_Paulo', 'America/Manaus',
  'Asia/Kolkata', 'Asia/Shanghai', 'Africa/Johannesburg', 'Pacific/Auckland', 'America/Mexico_City', 'Asia/Jakarta', 'UTC'];
const instants = Array.from({ length: 200 }, (_, i) => new Date(now + i * 37));

let started = performance.now();
for (const zone of ZONES) isOpen(office, zone, instants[0]);
console.log(`first isOpen in a zone (offset segment from Temporal): ${((performance.now() - started) / ZONES.length).toFixed(2)} ms per zone, once`);

report('isOpen, one zone, one window object', N, measure(N, (i) => isOpen(office, 'Europe/Zurich', instants[i % 200])));
report('isOpen, batch of 200 recipients over 20 zones', N, measure(N, (i) => isOpen(office, ZONES[i % 20], instants[i % 200])));
const plain = () => ({ start: '09:00', end: '20:00', days: [1, 2, 3, 4, 5, 6] });
report('isOpen, a new equal window object per call (cached by content)', N / 10, measure(N / 10, (i) => isOpen(plain(), ZONES[i % 20], instants[i % 200])));
const saturdayNight = new Date(Date.parse('2026-03-28T21:30:00Z'));
report('nextOpening, Saturday night → Monday (over the EU DST change)', N / 10, measure(N / 10, (i) => nextOpening(office, ZONES[i % 20], saturdayNight)));
report('closesAt from an open instant', N / 10, measure(N / 10, (i) => closesAt(office, ZONES[i % 20], instants[i % 200])));

// --- recipient zones --------------------------------------------------------------------------
started = performance.now();
await preloadRecipientZones();
console.log(`preloadRecipientZones (decode libphonenumber's prefix table): ${(performance.now() - started).toFixed(1)} ms, once`);

const PREFIXES = ['+1212', '+1415', '+1312', '+1800', '+61 8', '+614', '+7495', '+7383', '+5511', '+5592', '+4179', '+447', '+4915', '+8190', '+999'];
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const phones = Array.from({ length: 100_000 }, (_, i) => {
  const prefix = PREFIXES[i % PREFIXES.length].replace(' ', '');
  let digits = '';
  while (prefix.length + digits.length < 12) digits += Math.floor(random() * 10);
  return prefix + digits;
});
const withZone = { firstName: 'Ann', timeZone: 'Asia/Tokyo' };
const withBadZone = { firstName: 'Ann', timeZone: 'Mars/Olympus' };
report('zoneOfRecipient, by number (100k distinct numbers, 15 prefixes)', N, measure(N, (i) => zoneOfRecipient(phones[i % 100_000], null, 'UTC')));
report('zoneOfRecipient, valid timeZone variable', N, measure(N, (i) => zoneOfRecipient(phones[i % 100_000], withZone, 'UTC')));
report('zoneOfRecipient, invalid timeZone variable, then by number', N, measure(N, (i) => zoneOfRecipient(phones[i % 100_000], withBadZone, 'UTC')));
