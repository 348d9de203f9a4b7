// Benchmark of the built app (`dist/`): `npm run build && npm run bench [-- import|send ...]`.
//
// Sections (default: all): `send` (scripts/bench/send.mjs), `import` (scripts/bench/import.mjs) and
// `workers` (scripts/bench/workers.mjs: 1, 2 and 4 worker processes), `memory` (scripts/bench/memory.mjs:
// peak RSS of a 10k and a 1M send with heap settings, and their cost), `result-write` (scripts/bench/
// result-write.mjs: the send's result write taken apart, next to the bare reference).
// Each writes its own generated block of docs/PERFORMANCE.md (`bench`, `bench-import`, `bench-workers`, `bench-memory`,
// `bench-result-write`), so one
// section can be re-run alone. The bench's processes, database and report: scripts/bench/harness.mjs (on the
// shared scripts/lib/harness.mjs).
import { cleanup, log, machineInfo, prepareBuild, ROOT, writeDoc } from './bench/harness.mjs';
import { killAllProcesses } from './lib/harness.mjs';
import { runImport } from './bench/import.mjs';
import { runSend } from './bench/send.mjs';
import { runWorkers } from './bench/workers.mjs';
import { runMemory } from './bench/memory.mjs';
import { runResultWrite } from './bench/result-write.mjs';

const SECTIONS = { send: { marker: 'bench', run: runSend }, import: { marker: 'bench-import', run: runImport }, workers: { marker: 'bench-workers', run: runWorkers },
  memory: { marker: 'bench-memory', run: runMemory }, 'result-write': { marker: 'bench-result-write', run: runResultWrite } };

async function main() {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(a in SECTIONS));
  if (unknown.length) throw new Error(`unknown section(s) ${unknown.join(', ')}; expected any of: ${Object.keys(SECTIONS).join(', ')}`);
  const sections = asked.length ? asked : Object.keys(SECTIONS);
  process.chdir(ROOT);
  prepareBuild();
  const machine = await machineInfo();
  try {
    for (const name of sections) {
      log(`section ${name}`);
      const report = await SECTIONS[name].run(machine);
      console.log(`\n${report}\n`);
      writeDoc(SECTIONS[name].marker, report);
    }
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench failed: ${err?.stack ?? err}`);
    killAllProcesses();
    process.exit(1);
  },
);
