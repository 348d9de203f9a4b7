import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Tenant API keys: random, shown once, stored as SHA-256 hex. */
export function generateApiKey(): string {
  return `sk_${randomBytes(24).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of two secrets of any length (hashes first, so lengths never leak). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
