/**
 * Validation of a `sendWindow` from the API, with one problem per field in the contract's
 * `details.fields` shape (`{ field: 'sendWindow.start', message }`), so a DTO can report them all at once.
 *
 * The result is normalised: weekdays sorted, the zone in canonical case. `null` for the optional
 * `days` and `timeZone` means "not given" (every day; the recipient's zone), as JSON clients often
 * send null for what they leave out. Unknown properties are refused, like everywhere in the API.
 */
import type { SendWindow } from './send-window.js';
import { normalizeTimeZone } from './time-zone.js';

export interface SendWindowProblem {
  field: string;
  message: string;
}

export type SendWindowValidation = { ok: true; window: SendWindow } | { ok: false; problems: SendWindowProblem[] };

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
const KNOWN_KEYS = new Set(['start', 'end', 'days', 'timeZone']);
const TIME_MESSAGE = 'must be a local time HH:MM from 00:00 to 23:59';
const DAYS_MESSAGE = 'must be a non-empty array of ISO weekdays (1 = Monday … 7 = Sunday)';
const DAY_MESSAGE = 'must be an integer from 1 (Monday) to 7 (Sunday)';
const ZONE_MESSAGE = 'must be "recipient" or an IANA time zone such as Europe/Zurich';

export function validateSendWindow(input: unknown, path = 'sendWindow'): SendWindowValidation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ field: path, message: 'must be an object { start, end, days?, timeZone? }' }] };
  }
  const value = input as Record<string, unknown>;
  const problems: SendWindowProblem[] = [];
  for (const key of Object.keys(value)) {
    if (!KNOWN_KEYS.has(key)) problems.push({ field: `${path}.${key}`, message: `property ${path}.${key} should not exist` });
  }

  const { start, end } = value;
  const startOk = typeof start === 'string' && HH_MM.test(start);
  const endOk = typeof end === 'string' && HH_MM.test(end);
  if (!startOk) problems.push({ field: `${path}.start`, message: TIME_MESSAGE });
  if (!endOk) problems.push({ field: `${path}.end`, message: TIME_MESSAGE });
  if (startOk && endOk && start === end) {
    problems.push({ field: `${path}.end`, message: 'must differ from start (an empty window never opens)' });
  }

  const days = value.days == null ? undefined : validDays(value.days, `${path}.days`, problems);

  let timeZone: string | undefined;
  if (value.timeZone === 'recipient') timeZone = 'recipient';
  else if (value.timeZone != null) {
    timeZone = normalizeTimeZone(value.timeZone) ?? undefined;
    if (timeZone === undefined) problems.push({ field: `${path}.timeZone`, message: ZONE_MESSAGE });
  }

  if (problems.length > 0) return { ok: false, problems };
  const window: SendWindow = { start: start as string, end: end as string };
  if (days !== undefined) window.days = days;
  if (timeZone !== undefined) window.timeZone = timeZone;
  return { ok: true, window };
}

function validDays(days: unknown, field: string, problems: SendWindowProblem[]): number[] | undefined {
  if (!Array.isArray(days) || days.length === 0) {
    problems.push({ field, message: DAYS_MESSAGE });
    return undefined;
  }
  const seen = new Set<number>();
  let ok = true;
  days.forEach((day: unknown, i) => {
    if (typeof day !== 'number' || !Number.isInteger(day) || day < 1 || day > 7) {
      problems.push({ field: `${field}[${i}]`, message: DAY_MESSAGE });
      ok = false;
    } else if (seen.has(day)) {
      problems.push({ field: `${field}[${i}]`, message: `repeats weekday ${day}` });
      ok = false;
    } else {
      seen.add(day);
    }
  });
  return ok ? [...seen].sort((a, b) => a - b) : undefined;
}
