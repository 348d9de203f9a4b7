// Import section of the benchmark (`npm run bench -- import`), for issue 11:
//  1. a BIG-row (1M) CSV through `POST /recipients` next to the minimal SQL path for the same file,
//     measured in triples (reference, import, import with PHONE_VALIDATION=library by a second app)
//     BENCH_IMPORT_RUNS times; the ratios are per triple;
//  2. flat cost: per-row time of the BIG import against a 10k import (same app, same file shape);
//  3. memory: peak RSS (VmHWM) of a fresh app (default settings) importing 10k, and of another
//     importing BIG rows, with the peak V8 heap and external memory sampled from /metrics;
//  4. the per-row cost of the libraries the import calls.
// Knobs (env): BENCH_IMPORT_RUNS (3), BENCH_BIG (1000000; lower only for a smoke test).
import os from 'node:os';
import {
  connectDb, createTenant, fmt, intEnv, log, machineTable, median, resetDatabase, row, startApp, stopProcess,
} from './harness.mjs';
import { TEXT, apiImport, libraryRates, makeCsv, memoryOfImport, prepareReference, referenceImport } from './import-figures.mjs';

const RUNS = intEnv('BENCH_IMPORT_RUNS', 3);
const BIG = intEnv('BENCH_BIG', 1_000_000);
const SMALL = 10_000;
const SMALL_RUNS = 5;

/** Runs the import section; returns its report (markdown). */
export async function runImport(machine) {
  const loadBefore = machine.loadavg();
  log(`import: fresh database, files of ${SMALL} and ${BIG} rows`);
  await resetDatabase();
  const db = await connectDb();
  const big = makeCsv(BIG, 0);
  const small = makeCsv(SMALL, 5_000_000);
  const out = { pairs: [], small: [], smallRef: [] };
  let app;
  let libraryApp;
  try {
    await prepareReference(db);
    app = await startApp(undefined, {});
    libraryApp = await startApp(undefined, { PHONE_VALIDATION: 'library' });
    const tenant = await createTenant(app);
    const libraryTenant = await createTenant(libraryApp);
    await apiImport(tenant, small, 'warm-up'); // JIT and connection pool warm
    await apiImport(libraryTenant, small, 'warm-up');
    await referenceImport(db, small);
    for (let i = 0; i < SMALL_RUNS; i++) {
      out.smallRef.push(await referenceImport(db, small));
      out.small.push(await apiImport(tenant, small, `import ${SMALL} #${i}`));
    }
    log(`  ${SMALL} rows: import ${fmt.ms(median(out.small))}, reference ${fmt.ms(median(out.smallRef))} (medians of ${SMALL_RUNS})`);
    for (let i = 0; i < RUNS; i++) {
      const ref = await referenceImport(db, big);
      const imp = await apiImport(tenant, big, `import ${BIG} #${i}`);
      const lib = await apiImport(libraryTenant, big, `library import ${BIG} #${i}`);
      out.pairs.push({ ref, imp, lib, load: os.loadavg()[0] });
      log(`  ${BIG} rows, ${i + 1}/${RUNS}: reference ${fmt.sec(ref)}, import ${fmt.sec(imp)} → ${(ref / imp).toFixed(2)}, ` +
        `library only ${fmt.sec(lib)} → ${(ref / lib).toFixed(2)} (load ${os.loadavg()[0].toFixed(2)})`);
    }
  } finally {
    if (app) await stopProcess(app.child);
    if (libraryApp) await stopProcess(libraryApp.child);
    await db.end();
  }

  const fresh = async () => {
    const a = await startApp(undefined, { WORKER_CONCURRENCY: null });
    return { ...a, stop: () => stopProcess(a.child) };
  };
  out.memSmall = await memoryOfImport(fresh, makeCsv(SMALL, 7_000_000), 'memory 10k');
  out.memBig = await memoryOfImport(fresh, makeCsv(BIG, 8_000_000), `memory ${BIG}`);
  const freshLibrary = async () => {
    const a = await startApp(undefined, { WORKER_CONCURRENCY: null, PHONE_VALIDATION: 'library' });
    return { ...a, stop: () => stopProcess(a.child) };
  };
  out.memBigLibrary = await memoryOfImport(freshLibrary, makeCsv(BIG, 9_000_000), `memory ${BIG}, library`);
  log(`  peak RSS: 10k ${out.memSmall.peakMb.toFixed(0)} MB, ${BIG} ${out.memBig.peakMb.toFixed(0)} MB (idle ${out.memBig.idleMb.toFixed(0)} MB); ` +
    `${BIG} with PHONE_VALIDATION=library ${out.memBigLibrary.peakMb.toFixed(0)} MB`);

  out.libs = await libraryRates(big);
  log(`  libraries: phones ${fmt.rate(out.libs.phonesPerSec)}/s (fast path ${fmt.rate(out.libs.fastPhonesPerSec)}/s), segments (library) ${fmt.rate(out.libs.librarySegmentsPerSec)}/s, segments (replay) ${fmt.rate(out.libs.segmentsPerSec)}/s`);
  return buildReport(out, machine, loadBefore, big);
}

function buildReport(out, machine, loadBefore, big) {
  const n = BIG.toLocaleString('en-US');
  const rate = (ms, rows) => rows / (ms / 1000);
  const usPerRow = (ms, rows) => (ms * 1000) / rows;
  const ratios = out.pairs.map((p) => p.ref / p.imp);
  const libraryRatios = out.pairs.map((p) => p.ref / p.lib);
  const smallUs = usPerRow(median(out.small), SMALL);
  const bigUs = usPerRow(median(out.pairs.map((p) => p.imp)), BIG);
  const smallRefUs = usPerRow(median(out.smallRef), SMALL);
  const bigRefUs = usPerRow(median(out.pairs.map((p) => p.ref)), BIG);
  const flat = bigUs / smallUs;
  const growth = out.memBig.peakMb - out.memSmall.peakMb;
  const refRate = median(out.pairs.map((p) => rate(p.ref, BIG)));
  const goalRate = 0.6 * refRate;
  const e = big.expected;
  const lines = [];
  lines.push(`Run on ${machine.date}: \`npm run bench -- import\`, ${RUNS} triples (reference, import, library-only import) of ${n}-row files.`, '');
  lines.push(...machineTable(machine, `${loadBefore} at the start, ${machine.loadavg()} at the end; 1-min load during the triples: ${out.pairs.map((p) => p.load.toFixed(1)).join(', ')}`));
  lines.push('| figure | median | min – max | notes |', '|---|---|---|---|');
  lines.push(row(`CSV import, ${n} rows (phone,name)`, out.pairs.map((p) => rate(p.imp, BIG)), fmt.rate,
    `rows/s, \`POST /recipients\` (text/csv, ${(big.body.length / 1e6).toFixed(1)} MB); answer asserted: accepted ${e.accepted.toLocaleString('en-US')}, duplicates ${e.duplicates.toLocaleString('en-US')}, invalid ${e.invalid.toLocaleString('en-US')}, suppressed 0`));
  lines.push(row('reference: minimal SQL path, same file', out.pairs.map((p) => rate(p.ref, BIG)), fmt.rate,
    'rows/s: `COPY` into a logged staging table, then `INSERT … SELECT … ON CONFLICT DO NOTHING` into a bare table keyed (campaign, seq), unique (campaign, phone)'));
  lines.push(row('import / reference', ratios, (x) => x.toFixed(2), 'per triple (reference, import, library-only import, back to back)'));
  lines.push(row('the same import with `PHONE_VALIDATION=library` / reference', libraryRatios, (x) => x.toFixed(2),
    'a second app validating every number through libphonenumber-js, same triples'));
  lines.push(row(`per-row time, 10k-row import`, out.small.map((ms) => usPerRow(ms, SMALL)), (x) => `${x.toFixed(1)} µs`, `${SMALL_RUNS} imports of a 10k-row file of the same shape, same app`));
  lines.push(row(`per-row time, ${n}-row import`, out.pairs.map((p) => usPerRow(p.imp, BIG)), (x) => `${x.toFixed(1)} µs`, ''));
  lines.push(`| per-row time ${n} / 10k | **${flat.toFixed(2)}** | | reference path: ${smallRefUs.toFixed(1)} / ${bigRefUs.toFixed(1)} µs → ${(bigRefUs / smallRefUs).toFixed(2)} |`);
  lines.push(`| app peak RSS (VmHWM), fresh app: idle / 10k import / ${n} import | **${out.memSmall.idleMb.toFixed(0)} / ${out.memSmall.peakMb.toFixed(0)} / ${out.memBig.peakMb.toFixed(0)} MB** | | default settings, one app per size |`);
  lines.push(`| peak RSS growth 10k → ${n} | **${growth.toFixed(0)} MB** | | with \`PHONE_VALIDATION=library\`: ${out.memBigLibrary.peakMb.toFixed(0)} MB after the ${n} import, growth ${(out.memBigLibrary.peakMb - out.memSmall.peakMb).toFixed(0)} MB (peak heap used ${out.memBigLibrary.peaks.heapUsed.toFixed(0)} MB) |`);
  lines.push(`| during the ${n} import: peak V8 heap used / external memory | **${out.memBig.peaks.heapUsed.toFixed(0)} / ${out.memBig.peaks.external.toFixed(0)} MB** | | \`/metrics\` sampled every 200 ms (10k import: ${out.memSmall.peaks.heapUsed.toFixed(0)} / ${out.memSmall.peaks.external.toFixed(0)} MB) |`);
  lines.push(`| phone validation, libphonenumber-js (max metadata) | **${fmt.rate(out.libs.phonesPerSec)}** | | numbers/s on one core (\`PhoneNormalizer\` with \`PHONE_VALIDATION=library\`) |`);
  lines.push(`| phone validation, fast path (the default) | **${fmt.rate(out.libs.fastPhonesPerSec)}** | | numbers/s on one core; equal answers checked by \`phone-number.spec.ts\` |`);
  lines.push(`| segment counting, sms-segments-calculator | **${fmt.rate(out.libs.librarySegmentsPerSec)}** | | texts/s on one core (\`new SegmentedMessage\`, ${TEXT.length}-character text) |`);
  lines.push(`| segment counting, countSegments (its O(n) replay) | **${fmt.rate(out.libs.segmentsPerSec)}** | | texts/s on one core; equal answers checked by \`sms-segments.spec.ts\` |`);
  lines.push('');
  const goals = [
    ['import ≥ 0.6 × the minimal SQL path', median(ratios).toFixed(2), median(ratios) >= 0.6],
    [`per-row time ${n} ≤ 1.2 × 10k`, flat.toFixed(2), flat <= 1.2],
    [`peak RSS growth 10k → ${n} ≤ 50 MB (import)`, `${growth.toFixed(0)} MB`, growth <= 50],
  ];
  lines.push('| goal (issue 11) | this run (median) | |', '|---|---|---|');
  for (const [g, v, ok] of goals) lines.push(`| ${g} | ${v} | ${ok ? 'met' : '**missed**'} |`);
  // Would the libraries alone meet the same goals? If not, the app's faster equivalent stays.
  const libraryRatio = median(libraryRatios);
  const libraryGrowth = out.memBigLibrary.peakMb - out.memSmall.peakMb;
  const phoneLibraryOk = libraryRatio >= 0.6 && libraryGrowth <= 50;
  const segmentLibraryOk = out.libs.librarySegmentsPerSec >= goalRate;
  lines.push('', '| through the library alone | would it meet the goals? | so |', '|---|---|---|');
  lines.push(`| phone validation (libphonenumber-js) | import ${libraryRatio.toFixed(2)} × reference (≥ 0.6?), RSS growth ${libraryGrowth.toFixed(0)} MB (≤ 50?): **${phoneLibraryOk ? 'yes' : 'no'}** | ${phoneLibraryOk ? 'the fast path is not needed' : 'the fast path stays (`PHONE_VALIDATION=fast`)'} |`);
  lines.push(`| segment counting (sms-segments-calculator) | ${fmt.rate(out.libs.librarySegmentsPerSec)} texts/s on one core, the goal needs ≥ ${fmt.rate(goalRate)} rows/s: **${segmentLibraryOk ? 'yes' : 'no'}** | ${segmentLibraryOk ? 'the replay is not needed' : 'the O(n) replay `countSegments` stays'} |`);
  return lines.join('\n');
}
