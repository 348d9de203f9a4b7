// Reading one Mitto answer or transport failure, shared by the send classification (mitto-send-outcome.ts)
// and the status lookups (mitto-message-status.ts): headers, JSON bodies, Retry-After, error codes, and
// reasons with the API key scrubbed. Pure; no I/O.

import { MITTO_REASON_MAX_CHARS } from './mitto.types.js';

/** Response headers as undici gives them (lower-case names); lookups here are case-insensitive anyway. */
export type MittoResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Cuts `text` to at most `max` characters (an ellipsis marks the cut), never splitting a surrogate pair. */
export function truncate(text: string, max: number = MITTO_REASON_MAX_CHARS): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** Replaces every occurrence of each non-empty secret (the API key) by `[REDACTED]`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('[REDACTED]');
  }
  return out;
}

/** Redact first, then truncate: truncating first could leave a prefix of the key behind. */
export function snippet(text: string, secrets: readonly string[] | undefined): string {
  return truncate(redact(text, secrets).trim());
}

export function headerValue(headers: MittoResponseHeaders, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string, or a finite number rendered as a string; anything else is undefined. */
export function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function nonEmptyText(value: unknown): string | undefined {
  const text = asText(value);
  return text !== undefined && text.trim().length > 0 ? text : undefined;
}

export function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Retry-After (RFC 9110 §10.2.3): delta-seconds or HTTP-date
// ---------------------------------------------------------------------------------------------------------

/**
 * Milliseconds to wait, or undefined when absent or unparseable. A date in the past gives 0.
 * Delta-seconds must be plain digits ("1.5", "-1" are rejected). HTTP-dates must start with a day name
 * (IMF-fixdate, RFC 850 and asctime all do), so that lenient `Date.parse` cannot read "12" as a date.
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, nowMs: number): number | undefined {
  const raw = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) {
    const seconds = Number(raw);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
  }
  if (!/^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s/i.test(raw)) return undefined;
  // asctime ("Sun Nov  6 08:49:37 1994") carries no zone; HTTP-dates are always GMT.
  const at = Date.parse(/(gmt|utc|[+-]\d{4})$/i.test(raw) ? raw : `${raw} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Retry: Mitto says it did not take the request (408 Request Timeout and 425 Too Early say so as well). */
export const RETRY_4XX = new Set([408, 425, 429]);

/**
 * Errors that are our own bugs or bad input (invalid header value, e.g. an API key with a newline): nothing
 * was sent, and resending cannot help → rejected with httpStatus 0.
 */
export const LOCAL_INVALID_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'ERR_INVALID_CHAR', 'ERR_INVALID_URL']);

/** Codes found on the error, its `cause` chain and AggregateError members (Node's happy-eyeballs connect). */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): void => {
    if (depth > 5 || e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) codes.push(code);
    visit((e as { cause?: unknown }).cause, depth + 1);
    const members = (e as { errors?: unknown }).errors;
    if (Array.isArray(members)) for (const m of members) visit(m, depth + 1);
  };
  visit(error, 0);
  return codes;
}

export function describeError(error: unknown, secrets: readonly string[] | undefined): string {
  const codes = errorCodes(error);
  let message: string;
  if (error instanceof AggregateError && !error.message) {
    message = error.errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ') || error.name;
  } else if (error instanceof Error) {
    message = error.message || error.name;
  } else {
    message = String(error);
  }
  const prefix = codes.length > 0 ? `${codes[0]}: ` : '';
  return snippet(`${prefix}${message}`, secrets);
}
