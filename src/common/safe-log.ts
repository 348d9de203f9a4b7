import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What our logs may carry. Logs are read by more people and kept longer than the database, so they hold
 * no personal data or secrets: no SQL parameters, phone numbers, message texts, variables, API keys or
 * their hashes. These serializers are installed for every log line (app.module.ts) and TypeORM's own
 * logging goes through `SafeTypeOrmLogger`; they whitelist what is kept instead of redacting known keys.
 */

/** Phone numbers, our API keys, long hex strings (key hashes) and Bearer/Basic credentials inside free text. */
const SENSITIVE_TEXT: Array<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+\S+/gi, '$1 [redacted]'],
  [/\bsk_[A-Za-z0-9_-]{8,}/g, '[api-key]'],
  [/\b[0-9a-f]{32,}\b/gi, '[hash]'],
  // 7+ digits with at most single spaces, dashes or brackets between them (phone numbers in any notation);
  // not ISO dates, IP addresses or digit runs inside UUIDs.
  [/(?<![\w.+-])(?!\d{4}-\d{2}-\d{2})\+?\(?\d(?:[ ()-]{0,2}\d){6,}(?![\w.-])/g, '[number]'],
];

export function scrubText(text: string): string {
  return SENSITIVE_TEXT.reduce((t, [re, replacement]) => t.replace(re, replacement), text);
}

export interface SafeError {
  type: string;
  message?: string;
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
  stack?: string;
}

/**
 * An error as it may be logged. Database errors keep only their SQLSTATE and the names of the constraint,
 * table and column: their message and `detail` quote values (`Key (phone)=(+41…)`), and TypeORM's
 * QueryFailedError also carries the SQL and every parameter. Other errors keep type, message and stack,
 * with numbers, keys and hashes scrubbed from the text.
 */
export function safeError(error: unknown): SafeError | string {
  if (typeof error === 'string') return scrubText(error);
  if (!error || typeof error !== 'object') return String(error);
  const e = error as Record<string, unknown> & { driverError?: Record<string, unknown> };
  const type = typeof e.type === 'string' ? e.type : ((error as Error).name ?? (error as object).constructor?.name ?? 'Error');
  const db = e.driverError && typeof e.driverError === 'object' ? e.driverError : isDatabaseError(e) ? e : undefined;
  if (db) {
    return {
      type,
      code: stringOrUndefined(db.code),
      constraint: stringOrUndefined(db.constraint),
      table: stringOrUndefined(db.table),
      column: stringOrUndefined(db.column),
    };
  }
  const message = typeof e.message === 'string' ? scrubText(e.message) : undefined;
  const stack = typeof e.stack === 'string' ? scrubText(e.stack) : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  return { type, message, ...(code ? { code } : {}), stack };
}

/** node-pg's DatabaseError: a five-character SQLSTATE plus `severity` (and maybe `detail`, `where`). */
function isDatabaseError(e: Record<string, unknown>): boolean {
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && ('severity' in e || 'detail' in e || 'query' in e);
}

function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * The request as logged: method, path with phone numbers and keys scrubbed (DELETE /api/suppressions/:phone
 * carries one), no headers (they carry keys and secrets), no body.
 */
export function safeRequest(req: IncomingMessage & { id?: unknown; originalUrl?: string }): Record<string, unknown> {
  const url = req.originalUrl ?? req.url ?? '';
  let path = url;
  try {
    path = decodeURIComponent(url);
  } catch {
    /* keep it encoded */
  }
  return { id: req.id, method: req.method, url: scrubText(path) };
}

export function safeResponse(res: ServerResponse): Record<string, unknown> {
  return { statusCode: res.statusCode };
}
