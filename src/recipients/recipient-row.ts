/**
 * One uploaded recipient row (JSON body item or CSV record) → a message ready to store, or the
 * reason it is refused. Pure: no I/O, no state.
 *
 * Checks, in order: phone (normalised to E.164 by PhoneNormalizer; its reason code on failure),
 * variables (string values only, at most 50, keys 1–64 and values ≤ 1000 characters, no NUL
 * character, which PostgreSQL's jsonb cannot store; otherwise INVALID_VARIABLES), the campaign text (every placeholder needs a usable variable, otherwise
 * `MISSING_VARIABLE: name1, name2`). All given variables are kept, not only those the current text
 * uses, because the text may still be edited. The segment count is that of the rendered text.
 */
import type { MessageTemplate } from './message-template.js';
import type { PhoneNormalizer, PhoneRejectReason } from './phone-number.js';
import { countSegments, type SmsEncoding } from './sms-segments.js';

export interface RawRecipient {
  /** 1-based position in the upload (JSON: array index + 1; CSV: record number, the header being row 1). */
  row: number;
  /** Expected to be a string; anything else is refused (EMPTY for null/undefined, else NOT_A_NUMBER). */
  phone: unknown;
  /** Expected to be a Record<string, string>; null/undefined means no variables. */
  variables?: unknown;
}

export const RECIPIENT_VARIABLE_LIMITS = { maxVariables: 50, maxKeyLength: 64, maxValueLength: 1000 } as const;

/** Raw phone text echoed back in a refusal is cut to this length. */
const MAX_ECHOED_PHONE = 64;

export type RecipientRejectReason = PhoneRejectReason | 'INVALID_VARIABLES' | `MISSING_VARIABLE: ${string}`;

export interface AcceptedRecipient {
  ok: true;
  row: number;
  /** E.164 */
  phone: string;
  /** All given variables (the same object), or null when there are none. */
  variables: Record<string, string> | null;
  segments: number;
  encoding: SmsEncoding;
  /** Characters of the rendered text that forced UCS-2 (unique). */
  nonGsm: string[];
}

export interface RejectedRecipient {
  ok: false;
  row: number;
  /** The phone as given (cut to 64 characters). */
  phone: string;
  reason: RecipientRejectReason;
}

export type EvaluatedRecipient = AcceptedRecipient | RejectedRecipient;

export function evaluateRecipientRow(raw: RawRecipient, template: MessageTemplate, phones: PhoneNormalizer): EvaluatedRecipient {
  const { row } = raw;
  const phoneInput = raw.phone;
  if (typeof phoneInput !== 'string') {
    const shown = phoneInput == null ? '' : String(phoneInput).slice(0, MAX_ECHOED_PHONE);
    return { ok: false, row, phone: shown, reason: phoneInput == null ? 'EMPTY' : 'NOT_A_NUMBER' };
  }
  const phone = phones.normalize(phoneInput);
  if (!phone.ok) return { ok: false, row, phone: phoneInput.slice(0, MAX_ECHOED_PHONE), reason: phone.reason };

  const variables = checkVariables(raw.variables);
  if (variables === undefined) return { ok: false, row, phone: phoneInput.slice(0, MAX_ECHOED_PHONE), reason: 'INVALID_VARIABLES' };

  const rendered = template.render(variables);
  if ('missing' in rendered) {
    return { ok: false, row, phone: phoneInput.slice(0, MAX_ECHOED_PHONE), reason: `MISSING_VARIABLE: ${rendered.missing.join(', ')}` };
  }
  const count = countSegments(rendered.text);
  return { ok: true, row, phone: phone.e164, variables, segments: count.segments, encoding: count.encoding, nonGsm: count.nonGsmCharacters };
}

/** The variables (null when none), or undefined when they break the rules. */
function checkVariables(value: unknown): Record<string, string> | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 0) return null;
  if (keys.length > RECIPIENT_VARIABLE_LIMITS.maxVariables) return undefined;
  for (const key of keys) {
    if (key.length === 0 || key.length > RECIPIENT_VARIABLE_LIMITS.maxKeyLength || key.includes('\0')) return undefined;
    const v = record[key];
    if (typeof v !== 'string' || v.length > RECIPIENT_VARIABLE_LIMITS.maxValueLength || v.includes('\0')) return undefined;
  }
  return record as Record<string, string>;
}
