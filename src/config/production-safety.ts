/**
 * What `NODE_ENV=production` refuses (api-contract.md, "Deployment settings"): the development defaults
 * make a fresh checkout run with no `.env`, but every one of them is published in this repository, so
 * in production a secret or an external address must be set explicitly, and no secret may hold a value
 * anyone can read here. `published-secrets.spec.ts` scans the repository so this list cannot fall behind.
 */

/** Must be set in production: the first two guard the API, the last decides where SMS really go. */
export const REQUIRED_IN_PRODUCTION = ['ADMIN_API_KEY', 'MITTO_WEBHOOK_SECRET', 'MITTO_BASE_URL'] as const;

/** Every value of a secret that appears in this repository (.env.example, docker-compose, docs, code, tests). */
export const PUBLISHED_SECRETS: Readonly<Record<'ADMIN_API_KEY' | 'MITTO_WEBHOOK_SECRET' | 'MITTO_API_KEY', readonly string[]>> = {
  ADMIN_API_KEY: [
    'dev-admin-key-change-me-0000',
    'test-admin-key-0123456789',
    'demo-admin-key-0123456789',
    'change-me-admin-key-please',
  ],
  MITTO_WEBHOOK_SECRET: ['dev-webhook-secret', 'test-webhook-secret', 'demo-webhook-secret', 'change-me-webhook-secret', 's3cret'],
  MITTO_API_KEY: ['sandbox-key', 'bench-sandbox-key'],
};

/** Every published value, whatever variable it was published for (a dev admin key is no better a webhook secret). */
const ALL_PUBLISHED = new Set(Object.values(PUBLISHED_SECRETS).flat());

/**
 * Problems that stop a production start, one line per variable (empty outside production).
 * `raw` is the environment as given, so "unset" means unset, not "left at its development default".
 */
export function productionProblems(nodeEnv: string, raw: Record<string, unknown>): string[] {
  if (nodeEnv !== 'production') return [];
  const problems: string[] = [];
  for (const name of REQUIRED_IN_PRODUCTION) {
    const value = raw[name];
    if (value === undefined || value === '') problems.push(`  ${name}: must be set when NODE_ENV=production (the development default is not used)`);
  }
  for (const name of Object.keys(PUBLISHED_SECRETS)) {
    const value = raw[name];
    if (typeof value === 'string' && ALL_PUBLISHED.has(value.trim())) {
      problems.push(`  ${name}: holds a value published in this repository; choose a secret of your own`);
    }
  }
  return problems;
}
