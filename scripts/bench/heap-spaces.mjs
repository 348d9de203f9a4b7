// Diagnostic behind docs/PERFORMANCE.md, "Memory of a send": what fills the app's memory during a long send.
// One fresh app (node flags as shipped, or the ones given) sends a 10k and then a 1M bulk campaign while the
// V8 heap spaces and external memory are read from its /metrics every 200 ms; prints the app's peak RSS after
// each send and the sample taken at the highest RSS.
//   npm run build && node scripts/bench/heap-spaces.mjs                                # as shipped
//   npm run build && node scripts/bench/heap-spaces.mjs --                             # no node flags
//   npm run build && node scripts/bench/heap-spaces.mjs --max-old-space-size=1024      # other flags
import { readFileSync } from 'node:fs';
import { cleanup, connectDb, peakRssMb, prepareBuild, resetDatabase, sleep, startApp, startSandbox, stopProcess } from './harness.mjs';
import { BIG, HIGH_LIMITS, benchEndToEnd, fetchMetrics } from './send-figures.mjs';
import { APP_NODE_ARGS } from '../lib/app-runtime.mjs';

const flags = process.argv.slice(2);
const nodeArgs = flags.length === 0 ? APP_NODE_ARGS : flags.filter((f) => f !== '--');
const MB = 2 ** 20;

prepareBuild();
await resetDatabase();
const db = await connectDb();
const sandbox = await startSandbox();
const app = await startApp(sandbox.url, HIGH_LIMITS, { nodeArgs });
try {
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${app.child.pid}/status`, 'utf8'))[1]) / 1024;
  let atPeak = { rss: 0 };
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      const text = (await fetchMetrics(app).catch(() => undefined)) ?? '';
      const sample = { rss: rssMb() };
      for (const m of text.matchAll(/^bulksms_nodejs_heap_space_size_(total|used)_bytes\{space="(\w+)"\}\s+(\S+)/gm)) {
        if (m[2] === 'old' || m[2] === 'new' || m[2] === 'large_object') sample[`${m[2]} ${m[1]}`] = Number(m[3]) / MB;
      }
      const external = /^bulksms_nodejs_external_memory_bytes\s+(\S+)/m.exec(text);
      if (external) sample.external = Number(external[1]) / MB;
      if (sample.rss > atPeak.rss) atPeak = sample;
      await sleep(200);
    }
  })();
  const show = (label) => console.log(`${label}: peak RSS ${peakRssMb(app.child.pid).toFixed(0)} MB; at the highest sample (MB): ${
    Object.entries(atPeak).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
  console.log(`node flags: ${nodeArgs.join(' ') || '(none)'}`);
  await benchEndToEnd(app, db, 10_000, { sandbox: sandbox.child.pid });
  show('after the 10k send');
  await benchEndToEnd(app, db, BIG, { sandbox: sandbox.child.pid });
  stop = true;
  await sampler;
  show(`after the ${BIG.toLocaleString('en-US')} send`);
} finally {
  await stopProcess(app.child);
  await stopProcess(sandbox.child);
  await db.end();
  await cleanup();
}
