import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { processOutput, startProcess } from '../../scripts/lib/harness.mjs';
import { APP_NODE_ARGS } from '../../scripts/lib/app-runtime.mjs';

export { freePort, stopProcess } from '../../scripts/lib/harness.mjs';

/**
 * Starts the built app (`dist/`, made by `npm run build`, which `npm test` runs first) as a separate
 * process, e.g. APP_ROLE=worker, so tests can kill it like an operator or the kernel would. What it prints
 * is kept (appOutput) so tests can read its logs; with TEST_APP_LOG=<file> it is also appended to that file
 * (to see what a child did).
 */
export async function spawnApp(env: Record<string, string>, options: { logLevel?: string } = {}): Promise<ChildProcess> {
  if (!existsSync('dist/src/main.js')) throw new Error('dist/src/main.js missing: run `npm run build` first');
  return startProcess({
    name: 'app',
    script: 'dist/src/main.js',
    nodeArgs: APP_NODE_ARGS, // as it ships (Dockerfile, npm start)
    // info level at least: the start line ('bulk-sms started') is how we know the process is up.
    env: { ...env, LOG_LEVEL: options.logLevel ?? 'info' },
    ready: 'bulk-sms started',
    timeoutMs: 45_000,
    logFile: process.env.TEST_APP_LOG,
  });
}

/** Everything the process printed so far (its JSON log lines), up to 10 million characters. */
export function appOutput(child: ChildProcess): string {
  return processOutput(child);
}
