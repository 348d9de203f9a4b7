import type { MessageTemplate } from './message-template.js';
import type { PhoneNormalizer } from './phone-number.js';
import { countSegments, type SmsEncoding } from './sms-segments.js';

export interface RawRecipient {
  /** 1-based position in the upload (CSV: line number, the header being line 1). */
  row: number;
  phone: unknown;
  variables?: unknown;
}

export type EvaluatedRecipient =
  | { ok: true; phone: string; variables: Record<string, string> | null; segments: number; encoding: SmsEncoding; nonGsm: string[] }
  | { ok: false; row: number; phone: string; reason: string };

const MAX_VARIABLES = 50;
const MAX_KEY = 64;
const MAX_VALUE = 1000;

/** One upload row → a message ready to store, or the reason it is refused. Pure. */
export function evaluateRecipientRow(raw: RawRecipient, template: MessageTemplate, phones: PhoneNormalizer): EvaluatedRecipient {
  const phoneText = typeof raw.phone === 'string' ? raw.phone : '';
  const fail = (reason: string): EvaluatedRecipient => ({ ok: false, row: raw.row, phone: phoneText.slice(0, 64), reason });
  if (typeof raw.phone !== 'string') return fail('NOT_A_NUMBER');
  const variables = checkVariables(raw.variables);
  if (variables === undefined) return fail('INVALID_VARIABLES');
  const phone = phones.normalize(phoneText);
  if (!phone.ok) return fail(phone.reason);
  const rendered = template.render(variables);
  if ('missing' in rendered) return fail(`MISSING_VARIABLE: ${rendered.missing.join(', ')}`);
  const count = countSegments(rendered.text);
  return { ok: true, phone: phone.e164, variables, segments: count.segments, encoding: count.encoding, nonGsm: count.nonGsmCharacters };
}

function checkVariables(value: unknown): Record<string, string> | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return null;
  if (entries.length > MAX_VARIABLES) return undefined;
  for (const [k, v] of entries) {
    if (k.length > MAX_KEY || typeof v !== 'string' || v.length > MAX_VALUE) return undefined;
  }
  return value as Record<string, string>;
}
