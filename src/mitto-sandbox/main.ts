// CLI entry of the Mitto sandbox: `node dist/src/mitto-sandbox/main.js`.
// A separate program from the app: it reads only the SANDBOX_* variables below, never the app's config.
import { MittoSandbox } from './sandbox-server.js';

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return n;
}

function optionalEnv(name: string): string | undefined {
  const raw = process.env[name]?.trim();
  return raw ? raw : undefined;
}

async function main(): Promise<void> {
  const port = numberFromEnv('SANDBOX_PORT', 4010);
  const host = optionalEnv('SANDBOX_HOST') ?? '127.0.0.1';
  const apiKeys = (optionalEnv('SANDBOX_API_KEYS') ?? 'sandbox-key')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  const sandbox = new MittoSandbox({
    apiKeys,
    webhookUrl: optionalEnv('SANDBOX_WEBHOOK_URL'),
    webhookSecret: optionalEnv('SANDBOX_WEBHOOK_SECRET'),
    reportDelayMs: numberFromEnv('SANDBOX_REPORT_DELAY_MS', 1000),
    deliveredRatio: numberFromEnv('SANDBOX_DELIVERED_RATIO', 0.95),
    latencyMs: numberFromEnv('SANDBOX_LATENCY_MS', 0),
  });
  const { url } = await sandbox.start(port, host);
  console.log(`mitto-sandbox listening on ${url}`);

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    sandbox.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('mitto-sandbox: error while stopping', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  console.error('mitto-sandbox: failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
