// How the app's process is started wherever this repository starts it: the Dockerfile (NODE_OPTIONS), `npm
// start*` (package.json), the demo, the benchmark and the tests that run the built app as its own process.

/**
 * V8's old space capped at 512 MB. Without a cap, V8 sizes its heap for the whole machine and lets the old
 * space run far past what is live before it compacts: a 1M-message send grows the resident size by 90–180 MB
 * though nothing is kept per message (each batch's short-lived data is promoted and dies there). With the
 * cap V8 grows the heap by smaller steps and collects sooner: the same send grows it by 2–7 MB, for 12–29 %
 * more app CPU per message (runs vary; a 1024 MB cap did as well in some), while ~8× the app's live heap
 * (~60 MB) stays free for bursts (concurrent JSON bodies are parsed whole). docs/PERFORMANCE.md, "Memory of a send", has the measurements.
 * Raise it (NODE_OPTIONS, or the flag) on a machine whose one process must hold more.
 */
export const APP_HEAP_FLAG = '--max-old-space-size=512';
export const APP_NODE_ARGS = [APP_HEAP_FLAG];
