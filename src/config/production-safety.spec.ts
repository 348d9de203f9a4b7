import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildConfig } from './app.config.js';
import { PUBLISHED_SECRETS } from './production-safety.js';

const SAFE = {
  NODE_ENV: 'production',
  ADMIN_API_KEY: 'a-real-admin-key-from-the-vault',
  MITTO_WEBHOOK_SECRET: 'a-real-webhook-secret',
  MITTO_BASE_URL: 'https://messaging.mittoapi.com',
};

describe('production refuses unsafe settings', () => {
  it('starts with every required variable set to a private value', () => {
    const c = buildConfig(SAFE);
    expect(c.adminApiKey).toBe(SAFE.ADMIN_API_KEY);
    expect(c.mitto.baseUrl).toBe(SAFE.MITTO_BASE_URL);
    // The sandbox key is not a production default.
    expect(c.mitto.defaultApiKey).toBeUndefined();
  });

  it.each(['ADMIN_API_KEY', 'MITTO_WEBHOOK_SECRET', 'MITTO_BASE_URL'])('refuses to start while %s is unset, naming it', (name) => {
    const env: Record<string, string> = { ...SAFE };
    delete env[name];
    expect(() => buildConfig(env)).toThrow(new RegExp(`production[\\s\\S]*${name}: must be set`));
    expect(() => buildConfig({ ...env, [name]: '' })).toThrow(new RegExp(`${name}: must be set`));
  });

  // Values too short for the variable are refused by the length rule already; the rest by publication.
  const MIN_LENGTH: Record<string, number> = { ADMIN_API_KEY: 16, MITTO_WEBHOOK_SECRET: 8 };
  const cases = Object.entries(PUBLISHED_SECRETS).flatMap(([name, values]) =>
    values.filter((v) => v.length >= (MIN_LENGTH[name] ?? 0)).map((v) => [name, v]),
  );
  it.each(cases)(
    'refuses %s=%s (published in this repository)',
    (name, value) => {
      expect(() => buildConfig({ ...SAFE, [name]: value })).toThrow(new RegExp(`${name}: holds a value published`));
    },
  );

  it('refuses a published value of one secret used for another', () => {
    expect(() => buildConfig({ ...SAFE, MITTO_WEBHOOK_SECRET: 'dev-admin-key-change-me-0000' })).toThrow(/MITTO_WEBHOOK_SECRET: holds/);
  });

  it('names every problem at once', () => {
    expect(() => buildConfig({ NODE_ENV: 'production', ADMIN_API_KEY: 'dev-admin-key-change-me-0000' })).toThrow(
      /ADMIN_API_KEY: holds[\s\S]*|MITTO_WEBHOOK_SECRET: must be set[\s\S]*MITTO_BASE_URL: must be set/,
    );
  });

  it.each(['development', 'test'])('NODE_ENV=%s keeps the friendly defaults', (env) => {
    const c = buildConfig({ NODE_ENV: env });
    expect(c.adminApiKey).toBe('dev-admin-key-change-me-0000');
    expect(c.mitto.baseUrl).toBe('http://127.0.0.1:4010');
    expect(c.mitto.defaultApiKey).toBe('sandbox-key');
  });
});

/**
 * The list above must cover every secret value this repository publishes. This scans the files a reader
 * of the repository sees (docs, examples, compose file, code, tests, scripts) for literal values given to
 * a secret's name, so adding a new example key without listing it fails here.
 */
describe('PUBLISHED_SECRETS covers the repository', () => {
  const root = join(import.meta.dirname ?? process.cwd(), '..', '..');
  const NAMES = '(?:ADMIN_API_KEY|MITTO_WEBHOOK_SECRET|SANDBOX_WEBHOOK_SECRET|MITTO_API_KEY|ADMIN_KEY|WEBHOOK_SECRET|SANDBOX_KEY|webhookSecret)';
  // In code a literal is quoted; in env files, YAML and docs it may stand bare after `=` or `:`.
  const QUOTED = new RegExp(`${NAMES}['"]?\\s*[:=]\\s*(['"\`])([^'"\`\\s]+)\\1`, 'g');
  const BARE = new RegExp(`${NAMES}\\s*[:=]\\s*([A-Za-z0-9_.-]{6,})\\s*$`, 'gm');
  const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'coverage', 'client']);
  // This spec holds made-up private values on purpose.
  const SELF = 'production-safety.spec.ts';

  function files(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (SKIP_DIRS.has(name) || name === SELF) return [];
      if (statSync(path).isDirectory()) return files(path);
      return /\.(ts|mjs|js|md|ya?ml|example)$|^Dockerfile$/.test(name) ? [path] : [];
    });
  }

  it('every literal secret value in the repository is listed', () => {
    const published = new Set(Object.values(PUBLISHED_SECRETS).flat());
    const found = new Map<string, string>();
    for (const file of files(root)) {
      const text = readFileSync(file, 'utf8');
      const code = /\.(ts|mjs|js)$/.test(file);
      const values = [...text.matchAll(QUOTED)].map((m) => m[2]).concat(code ? [] : [...text.matchAll(BARE)].map((m) => m[1]));
      // Template placeholders are not published values.
      for (const value of values) if (!value.includes('${')) found.set(value, file.slice(root.length + 1));
    }
    const missing = [...found].filter(([value]) => !published.has(value));
    expect(missing).toEqual([]);
    expect(found.size).toBeGreaterThan(5);
  });
});
