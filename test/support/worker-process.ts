import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** What appOutput keeps of a child's output (long chaos runs log far more; TEST_APP_LOG keeps it all). */
const KEEP_BYTES = 10_000_000;
const outputs = new WeakMap<ChildProcess, { text: string }>();

/**
 * Starts the built app (`dist/`, made by `npm run build`, which `npm test` runs first) as a separate
 * process, e.g. APP_ROLE=worker, so tests can kill it like an operator or the kernel would. What it prints
 * is kept (appOutput) so tests can read its logs; with TEST_APP_LOG=<file> it is also appended to that file
 * (to see what a child did).
 */
export async function spawnApp(env: Record<string, string>, options: { logLevel?: string } = {}): Promise<ChildProcess> {
  if (!existsSync('dist/src/main.js')) throw new Error('dist/src/main.js missing: run `npm run build` first');
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    // info level at least: the start line ('bulk-sms started') is how we know the process is up.
    env: { ...process.env, ...env, LOG_LEVEL: options.logLevel ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { text: '' };
  outputs.set(child, output);
  const collect = (chunk: Buffer) => {
    if (process.env.TEST_APP_LOG) appendFileSync(process.env.TEST_APP_LOG, chunk);
    if (output.text.length < KEEP_BYTES) output.text += chunk.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start:\n${output.text}`)), 45_000);
    const onData = () => {
      if (output.text.includes('bulk-sms started')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`app exited with ${code}:\n${output.text}`)));
  });
  return child;
}

/** Everything the process printed so far (its JSON log lines), up to KEEP_BYTES. */
export function appOutput(child: ChildProcess): string {
  return outputs.get(child)?.text ?? '';
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/** A TCP port nothing listens on right now (for a child process's PORT). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
