import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { requestLimitKey } from './request-limit-key.js';

const req = (headers: Record<string, string>, ip = '203.0.113.7') => ({ headers, ip }) as never;

describe('requestLimitKey', () => {
  it('counts a tenant operation by its Bearer key, never showing the key or its stored hash', () => {
    const key = 'sk_abcdefghijklmnopqrstuvwxyz012345';
    const k = requestLimitKey('tenant', req({ authorization: `Bearer ${key}` }));
    expect(k.kind).toBe('tenant');
    expect(k.id).toMatch(/^tenant:[\w-]{32}$/);
    expect(k.id).not.toContain(key);
    expect(k.id).not.toContain(createHash('sha256').update(key).digest('hex').slice(0, 16));
  });

  it('gives two keys two budgets and one key one budget', () => {
    const a = requestLimitKey('tenant', req({ authorization: 'Bearer sk_a' }));
    expect(requestLimitKey('tenant', req({ authorization: 'bearer sk_a ' }, '198.51.100.1'))).toEqual(a);
    expect(requestLimitKey('tenant', req({ authorization: 'Bearer sk_b' }))).not.toEqual(a);
  });

  it('counts an admin operation by X-Admin-Api-Key, ignoring a Bearer key sent alongside', () => {
    const k = requestLimitKey('admin', req({ 'x-admin-api-key': 'admin-key-0123456789', authorization: 'Bearer sk_x' }));
    expect(k.kind).toBe('admin');
    expect(requestLimitKey('admin', req({ 'x-admin-api-key': 'admin-key-0123456789', authorization: 'Bearer sk_y' }))).toEqual(k);
  });

  it('counts a tenant operation by its Bearer key even when an admin key header is added (no fresh budget per junk header)', () => {
    const plain = requestLimitKey('tenant', req({ authorization: 'Bearer sk_a' }));
    expect(requestLimitKey('tenant', req({ authorization: 'Bearer sk_a', 'x-admin-api-key': 'junk-0123456789abcdef' }))).toEqual(plain);
  });

  it('counts calls without the credential by client address', () => {
    expect(requestLimitKey('tenant', req({}))).toEqual({ kind: 'address', id: 'address:203.0.113.7' });
    expect(requestLimitKey('tenant', req({ authorization: 'Basic abc' }))).toEqual({ kind: 'address', id: 'address:203.0.113.7' });
    expect(requestLimitKey('admin', req({ authorization: 'Bearer sk_a' }, '::1'))).toEqual({ kind: 'address', id: 'address:::1' });
  });
});
