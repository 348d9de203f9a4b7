import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';

/**
 * Starts the built app (`dist/`, made by `npm run build`, which `npm test` runs first) as a separate
 * process, e.g. APP_ROLE=worker, so tests can kill it like an operator or the kernel would. With
 * TEST_APP_LOG=<file>, the process's logs are appended to that file (to see what a child did).
 */
export async function spawnApp(env: Record<string, string>): Promise<ChildProcess> {
  if (!existsSync('dist/src/main.js')) throw new Error('dist/src/main.js missing: run `npm run build` first');
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    // info level: the start line ('bulk-sms started') is how we know the process is up.
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      if (process.env.TEST_APP_LOG) appendFileSync(process.env.TEST_APP_LOG, chunk);
      if (output.length > 1_000_000) return;
      output += chunk.toString();
      if (output.includes('bulk-sms started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`app exited with ${code}:\n${output}`)));
  });
  return child;
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}
