// Memory section of the benchmark (`npm run bench -- memory`): the app's peak RSS (VmHWM) after a 10k and
// after a 1M bulk send, each by a fresh app, with the default heap and with smaller V8 heap settings
// (NODE_OPTIONS), next to what each setting costs in end-to-end msg/s. Issue 11, item 4: "if the fix is a
// heap setting, show its cost in the same table".
import { connectDb, fmt, log, machineTable, peakRssMb, resetDatabase, startApp, startSandbox, stopProcess } from './harness.mjs';
import { BIG, HIGH_LIMITS, benchEndToEnd } from './send-figures.mjs';
import { APP_HEAP_FLAG, APP_NODE_ARGS } from '../lib/app-runtime.mjs';

// The first row is the app as it ships (scripts/lib/app-runtime.mjs: Dockerfile, npm start); the others
// replace its node flags.
const VARIANTS = [
  { label: `as shipped (\`${APP_HEAP_FLAG}\`)`, nodeArgs: APP_NODE_ARGS },
  { label: 'no cap (V8 sizes the heap for the machine; the default before)', nodeArgs: [] },
  { label: '`--max-old-space-size=256`', nodeArgs: ['--max-old-space-size=256'] },
  { label: '`--max-old-space-size=1024`', nodeArgs: ['--max-old-space-size=1024'] },
  { label: 'no cap, `--max-semi-space-size=64`', nodeArgs: ['--max-semi-space-size=64'] },
];

export async function runMemory(machine) {
  const rows = [];
  for (const v of VARIANTS) rows.push(await runVariant(v));
  return report(rows, machine);
}

async function runVariant(variant) {
  log(`memory: ${variant.label}`);
  await resetDatabase();
  const db = await connectDb();
  const sandbox = await startSandbox();
  const out = { label: variant.label };
  try {
    for (const n of [10_000, BIG]) {
      const app = await startApp(sandbox.url, HIGH_LIMITS, { nodeArgs: variant.nodeArgs });
      try {
        const e2e = await benchEndToEnd(app, db, n, { sandbox: sandbox.child.pid });
        out[n] = { rss: peakRssMb(app.child.pid), msgPerSec: e2e.msgPerSec, appCpuUs: (e2e.cpu.app * 1e6) / n };
        log(`  ${n}: peak RSS ${out[n].rss.toFixed(0)} MB, ${Math.round(e2e.msgPerSec)} msg/s`);
      } finally {
        await stopProcess(app.child);
      }
    }
  } finally {
    await stopProcess(sandbox.child);
    await db.end();
  }
  return out;
}

function report(rows, machine) {
  const big = BIG.toLocaleString('en-US');
  const lines = [`Run on ${machine.date}: one fresh app per send, bulk, default settings except the row's node flags; one run per row.`, ''];
  lines.push(...machineTable(machine, `${machine.loadavg()} (at the end)`));
  lines.push(`| node flags | peak RSS, 10k send | peak RSS, ${big} send | growth | msg/s, ${big} send | vs default | app CPU per message, ${big} send |`, '|---|---|---|---|---|---|---|');
  const base = rows[0][BIG].msgPerSec;
  for (const r of rows) {
    const growth = r[BIG].rss - r[10_000].rss;
    lines.push(`| ${r.label} | ${r[10_000].rss.toFixed(0)} MB | ${r[BIG].rss.toFixed(0)} MB | **${growth.toFixed(0)} MB**${growth <= 50 ? ' (≤ 50: met)' : ''} | ${fmt.rate(r[BIG].msgPerSec)} | ${(r[BIG].msgPerSec / base).toFixed(2)}× | ${r[BIG].appCpuUs.toFixed(1)} µs |`);
  }
  return lines.join('\n');
}
