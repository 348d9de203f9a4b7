import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { startApp, type TestApp } from './support/test-app.js';

/** Prometheus' own checker, when installed (.ci/run installs it: Debian package `prometheus`). */
function promtool(): string | undefined {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return found.status === 0 ? 'promtool' : undefined;
}

/** `# TYPE name type` lines of an exposition. */
function types(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

describe('GET /metrics is clean Prometheus exposition', () => {
  let app: TestApp;
  let body: string;

  beforeAll(async () => {
    app = await startApp();
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    body = await res.text();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('names counters, and only counters, `…_total`', () => {
    const all = types(body);
    const misnamed = [...all].filter(([name, type]) => (type === 'counter') !== name.endsWith('_total'));
    expect(misnamed).toEqual([]);
    expect(all.size).toBeGreaterThan(30);
  });

  it('includes the default Node process metrics (the `…_total` gauges renamed `…_all`)', () => {
    const all = types(body);
    for (const name of ['bulksms_process_cpu_seconds_total', 'bulksms_process_resident_memory_bytes', 'bulksms_nodejs_heap_size_used_bytes', 'bulksms_nodejs_eventloop_lag_seconds']) {
      expect(all.has(name)).toBe(true);
    }
    expect(all.get('bulksms_nodejs_active_handles_all')).toBe('gauge');
    expect(all.has('bulksms_nodejs_active_handles_total')).toBe(false);
    expect(body).toMatch(/^bulksms_nodejs_active_handles_all \d+$/m);
  });

  const tool = promtool();
  // Runs where promtool is installed (CI installs it); the naming rules above hold either way.
  (tool ? it : it.skip)('passes `promtool check metrics` with nothing to report', () => {
    const check = spawnSync(tool!, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect({ status: check.status, output: `${check.stdout}${check.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  });
});
