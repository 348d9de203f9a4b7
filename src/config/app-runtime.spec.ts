import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { APP_HEAP_FLAG, APP_NODE_ARGS } from '../../scripts/lib/app-runtime.mjs';

/**
 * The app's node flags (scripts/lib/app-runtime.mjs: V8's old space capped, docs/PERFORMANCE.md "Memory of a
 * send") are what the benchmark measures, so every way the repository ships the app must start it with them.
 */
describe('how the app process is started', () => {
  it('caps the old space with a positive size in MB', () => {
    expect(APP_HEAP_FLAG).toMatch(/^--max-old-space-size=[1-9]\d*$/);
    expect(APP_NODE_ARGS).toContain(APP_HEAP_FLAG);
  });

  it('the Dockerfile sets the same flag for the runtime image', () => {
    const runtime = readFileSync('Dockerfile', 'utf8').split(/^FROM .* AS runtime$/m)[1];
    expect(runtime).toMatch(new RegExp(`^ENV NODE_OPTIONS=${APP_HEAP_FLAG}$`, 'm'));
    expect(runtime).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]$/m);
  });

  it('every npm start script passes it to node', () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    const starts = Object.entries(scripts).filter(([, cmd]) => cmd.includes('dist/src/main.js'));
    expect(starts.map(([name]) => name).sort()).toEqual(['start', 'start:api', 'start:prod', 'start:worker']);
    for (const [, cmd] of starts) expect(cmd).toContain(`node ${APP_HEAP_FLAG} dist/src/main.js`);
  });
});
