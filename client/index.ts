import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './schema.js';

/**
 * The dashboard's typed client: openapi-fetch over the types openapi-typescript generated from the API's
 * OpenAPI document (schema.d.ts). Paths, parameters, bodies and answers are checked by the compiler:
 *
 *   const api = createBulkSmsClient({ baseUrl: 'https://api.example.com', apiKey });
 *   const { data, error } = await api.GET('/api/campaigns/{id}/status', { params: { path: { id } } });
 *
 * `error` is the contract's error body (`error.error.code`) for any documented error status.
 */
export type { components, operations, paths } from './schema.js';
export type BulkSmsClient = Client<paths>;

export interface BulkSmsClientOptions {
  /** Where the API is, e.g. `https://api.example.com` (the paths already start with `/api`). */
  baseUrl: string;
  /** A tenant API key: sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** The admin key, for internal tools only: sent as `X-Admin-Api-Key`. */
  adminKey?: string;
  fetch?: typeof globalThis.fetch;
}

export function createBulkSmsClient(options: BulkSmsClientOptions): BulkSmsClient {
  const headers: Record<string, string> = {};
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  if (options.adminKey) headers['x-admin-api-key'] = options.adminKey;
  return createClient<paths>({ baseUrl: options.baseUrl, headers, ...(options.fetch ? { fetch: options.fetch } : {}) });
}
