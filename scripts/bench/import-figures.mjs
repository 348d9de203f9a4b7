// Import figures of the benchmark (see import.mjs): the CSV file with known counts, the minimal SQL
// path it is compared with, an import through the API, peak memory, and the per-row cost of the
// libraries the import calls.
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { from as copyFrom } from 'pg-copy-streams';
import { APP_DIR, createCampaign, createTenant, now, peakRssMb, sleep } from './harness.mjs';

/** The campaign text: a realistic length (segments are counted on the rendered text). */
export const TEXT = 'Hi {{name}}, our spring sale starts today: 20% off everything in store and online until Sunday. Reply STOP to opt out.';

/**
 * A `phone,name` CSV of `rows` data rows: every 100th row (i % 100 = 50) repeats the number of the
 * row 7 above it, every 100th (i % 100 = 99) has a phone that is not a number; the rest are distinct
 * valid Swiss mobile numbers. `offset` keeps the numbers of different files apart.
 */
export function makeCsv(rows, offset = 0) {
  const lines = ['phone,name'];
  const expected = { accepted: 0, duplicates: 0, invalid: 0, suppressed: 0 };
  const phone = (i) => `+4179${String(offset + i).padStart(7, '0')}`;
  for (let i = 0; i < rows; i++) {
    if (i % 100 === 50) {
      lines.push(`${phone(i - 7)},Again ${i}`);
      expected.duplicates++;
    } else if (i % 100 === 99) {
      lines.push(`not-a-phone-${i},Broken ${i}`);
      expected.invalid++;
    } else {
      lines.push(`${phone(i)},Name ${i}`);
      expected.accepted++;
    }
  }
  return { body: Buffer.from(lines.join('\n') + '\n'), rows, expected };
}

/** Creates the minimal path's two tables (nothing of ours on them). */
export async function prepareReference(db) {
  await db.query(`CREATE TABLE IF NOT EXISTS bench_ref_staging (phone text, name text)`);
  await db.query(`CREATE TABLE IF NOT EXISTS bench_ref_messages (
    campaign_id uuid NOT NULL, seq integer NOT NULL, phone text NOT NULL, name text,
    PRIMARY KEY (campaign_id, seq), UNIQUE (campaign_id, phone))`);
}

/**
 * The minimal SQL path for the same file: `COPY` into a logged staging table, then one
 * `INSERT … SELECT … ON CONFLICT DO NOTHING` into a table keyed (campaign, seq) and unique on
 * (campaign, phone). Returns ms (the staging table is emptied before, outside the timing).
 */
export async function referenceImport(db, csv) {
  await db.query('TRUNCATE bench_ref_staging');
  const t0 = now();
  await pipeline(Readable.from([csv.body]), db.query(copyFrom(`COPY bench_ref_staging (phone, name) FROM STDIN (FORMAT csv, HEADER true)`)));
  await db.query(
    `INSERT INTO bench_ref_messages (campaign_id, seq, phone, name)
     SELECT $1, row_number() OVER (), phone, name FROM bench_ref_staging ON CONFLICT DO NOTHING`,
    [randomUUID()],
  );
  return now() - t0;
}

/** One CSV import through `POST /api/campaigns/:id/recipients` into a fresh campaign; the counts must be exact. */
export async function apiImport(tenant, csv, label) {
  const id = await createCampaign(tenant, label, TEXT);
  const t0 = now();
  const res = await tenant.api.expect(200, 'POST', `/api/campaigns/${id}/recipients`, csv.body, { 'content-type': 'text/csv' });
  const ms = now() - t0;
  for (const [k, v] of Object.entries(csv.expected)) {
    if (res[k] !== v) throw new Error(`${label}: expected ${k} = ${v}, got ${JSON.stringify(res).slice(0, 300)}`);
  }
  return ms;
}

/** Largest values of a few /metrics gauges (MB) while `work` runs, sampled every 200 ms. */
export async function samplePeaks(app, work) {
  const peaks = { heapUsed: 0, external: 0, rss: 0 };
  const names = { nodejs_heap_size_used_bytes: 'heapUsed', nodejs_external_memory_bytes: 'external', process_resident_memory_bytes: 'rss' };
  let done = false;
  const sampler = (async () => {
    while (!done) {
      try {
        const text = await (await fetch(`${app.base}/metrics`)).text();
        for (const m of text.matchAll(/^(?:bulksms_)?(nodejs_heap_size_used_bytes|nodejs_external_memory_bytes|process_resident_memory_bytes) (\S+)/gm)) {
          const key = names[m[1]];
          peaks[key] = Math.max(peaks[key], Number(m[2]) / 1024 / 1024);
        }
      } catch {
        /* the app is busy: next sample */
      }
      await sleep(200);
    }
  })();
  try {
    return { result: await work(), peaks };
  } finally {
    done = true;
    await sampler;
  }
}

/** Peak RSS of a fresh app before and after one import of `csv`. */
export async function memoryOfImport(startFreshApp, csv, label) {
  const app = await startFreshApp();
  try {
    const tenant = await createTenant(app);
    await sleep(1000); // settle after start-up
    const idleMb = peakRssMb(app.child.pid);
    const { peaks } = await samplePeaks(app, () => apiImport(tenant, csv, label));
    return { idleMb, peakMb: peakRssMb(app.child.pid), peaks };
  } finally {
    await app.stop();
  }
}

/**
 * Per-row cost of the libraries the import calls, on one core of this process: phone validation
 * (the app's PhoneNormalizer through libphonenumber-js alone, and with its fast path), segment
 * counting by sms-segments-calculator itself and by the app's countSegments (its O(n) replay,
 * checked equal by sms-segments.spec.ts).
 */
export async function libraryRates(csv) {
  const { PhoneNormalizer } = await import(path.join(APP_DIR, 'dist/src/recipients/phone-number.js'));
  const { countSegments } = await import(path.join(APP_DIR, 'dist/src/recipients/sms-segments.js'));
  const { SegmentedMessage } = await import('sms-segments-calculator');
  // The same answer as countSegments, by the library itself.
  const countSegmentsWithLibrary = (text) => {
    const message = new SegmentedMessage(text, 'auto');
    return { segments: message.segmentsCount, encoding: message.encodingName, nonGsmCharacters: [...new Set(message.getNonGsmCharacters())] };
  };
  const phones = csv.body.toString().split('\n').slice(1, 200_001).map((l) => l.split(',')[0]);
  const texts = Array.from({ length: 200_000 }, (_, i) => TEXT.replace('{{name}}', `Name ${i}`));
  const rate = (n, fn) => {
    fn(Math.min(n, 2_000)); // warm-up
    const t0 = now();
    fn(n);
    return n / ((now() - t0) / 1000);
  };
  const fast = new PhoneNormalizer('CH', 'fast');
  const library = new PhoneNormalizer('CH', 'library');
  return {
    phonesPerSec: rate(phones.length, (n) => {
      for (let i = 0; i < n; i++) library.normalize(phones[i]);
    }),
    fastPhonesPerSec: rate(phones.length, (n) => {
      for (let i = 0; i < n; i++) fast.normalize(phones[i]);
    }),
    librarySegmentsPerSec: rate(2_000, (n) => {
      for (let i = 0; i < n; i++) countSegmentsWithLibrary(texts[i]);
    }),
    segmentsPerSec: rate(texts.length, (n) => {
      for (let i = 0; i < n; i++) countSegments(texts[i]);
    }),
  };
}
