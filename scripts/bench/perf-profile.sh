#!/usr/bin/env bash
# Diagnostic behind docs/PERFORMANCE.md, "Goals" (where the CPU of a send goes, by function): a system-wide
# `perf record` of the first seconds of the second of two 100k bulk sends of one app
# (scripts/bench/timeline.mjs), from its enqueue on, then the top functions of PostgreSQL's processes and of
# the Node.js processes (the app, the sandbox and the timeline script). Percentages are of all samples of
# both cores, idle included. Needs `perf` (Debian: linux-perf) and root or kernel.perf_event_paranoid <= 0;
# V8's compiled JavaScript shows as [JIT]. Keep the recording shorter than the send (the timeline prints it).
#   npm run build && bash scripts/bench/perf-profile.sh [seconds to record=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
RECORD_SECONDS=${1:-3}
command -v perf >/dev/null || { echo "perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 1; }
if [ "$(id -u)" != 0 ] && [ "$(cat /proc/sys/kernel/perf_event_paranoid)" -gt 0 ]; then
  echo "perf needs root or kernel.perf_event_paranoid <= 0" >&2
  exit 1
fi
OUT=$(mktemp -d)
TIMELINE=
# the harness stops its app and sandbox on SIGTERM
trap '[ -n "$TIMELINE" ] && kill "$TIMELINE" 2>/dev/null; rm -rf "$OUT"' EXIT
: >"$OUT/timeline.log"
node scripts/bench/timeline.mjs 100000 2 >"$OUT/timeline.log" 2>&1 &
TIMELINE=$!
until grep -q 'send 2: enqueueing' "$OUT/timeline.log"; do
  kill -0 "$TIMELINE" 2>/dev/null || { cat "$OUT/timeline.log"; exit 1; }
  sleep 0.05
done
perf record -q -a -o "$OUT/perf.data" -- sleep "$RECORD_SECONDS"
wait "$TIMELINE" || { cat "$OUT/timeline.log"; exit 1; }
TIMELINE=
grep -E 'send [0-9]: [0-9]' "$OUT/timeline.log" || true
echo "== by process and binary (recorded ${RECORD_SECONDS} s)"
perf report -i "$OUT/perf.data" --sort comm,dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -12 || true
echo "== by process (the app, the sandbox and the script are separate node processes)"
perf report -i "$OUT/perf.data" --sort pid --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -12 || true
echo "== PostgreSQL, top functions"
perf report -i "$OUT/perf.data" --comm postgres --sort sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -20 || true
echo "== Node.js, top functions"
perf report -i "$OUT/perf.data" --comm node --sort sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -20 || true
