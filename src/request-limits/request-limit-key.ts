import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { LimitedBy } from './api-rate-limit.decorator.js';

export interface LimitKey {
  /** What the budget belongs to, for metrics: a tenant key, the admin key, or a client address. */
  kind: 'tenant' | 'admin' | 'address';
  /** The Redis key suffix; a digest, never the credential itself. */
  id: string;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The budget a request draws from: the credential the operation authenticates with (so one tenant's
 * traffic never uses another's budget), or the client address when the request carries none. Keys are
 * digested with their own domain prefix, so a Redis key never reveals a credential or its stored hash.
 * The address is Express' `req.ip`, which honours X-Forwarded-For only from TRUST_PROXY peers.
 */
export function requestLimitKey(by: LimitedBy, req: Pick<Request, 'headers' | 'ip'>): LimitKey {
  const credential = by === 'tenant' ? BEARER.exec(req.headers.authorization ?? '')?.[1] : req.headers['x-admin-api-key'];
  if (typeof credential === 'string' && credential.length > 0) return { kind: by, id: `${by}:${digest(credential)}` };
  return { kind: 'address', id: `address:${req.ip ?? 'unknown'}` };
}

function digest(credential: string): string {
  return createHash('sha256').update(`api-request-limit:${credential}`, 'utf8').digest('base64url').slice(0, 32);
}
