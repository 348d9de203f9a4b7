/**
 * Phone number normalisation to E.164 with libphonenumber-js.
 *
 * Validation: numbers must pass `PhoneNumber.isValid()` with the *max* metadata bundle, i.e. the
 * national number must match one of the number-type patterns (fixed line, mobile, toll free, ...)
 * of its country. A marketing platform pays for every SMS sent to a number that cannot exist, so
 * "possible" (right length) is not enough. With the default *min* bundle `isValid()` only checks
 * lengths and a loose national pattern (+41 70 123 45 67 passes although 070 is not an allocated
 * Swiss range), so `max` is used. Speed was not a reason to prefer `min`: through the library it
 * was at most ~25% faster (≈110k vs ≈85k numbers/s per core on the dev box; the time goes into
 * option spreading and regexes rebuilt on every call, not into metadata size), and the fast path
 * (phone-number-fast-path.ts) makes the difference moot. Mobile-only validation (the `mobile` bundle) is not applied:
 * some operators deliver SMS to fixed-line numbers, and there is no reason code for it.
 *
 * Input: surrounding whitespace and formatting characters (spaces, dashes, dots, slashes,
 * parentheses) are ignored, a `+` or an `00` international prefix introduces a country calling
 * code, anything else is a national number of the default region (the region's own international
 * prefix, e.g. 011 in the US, is recognised by the library too). A leading apostrophe (Excel's
 * "text" marker) is tolerated. Letters, extensions and other symbols make the input NOT_A_NUMBER.
 *
 * Throughput: the import's figures (docs/PERFORMANCE.md, section "Import") measure the 1M-row CSV import
 * both ways in the same run: through the library alone the import stayed below its goal (0.6 of the
 * minimal SQL path), with the fast path it reached it, and its peak memory grew far less (the
 * library allocates several objects per number). So the common cases (digits with or without `+`, no
 * national-prefix transform rules, no carrier codes, geographic calling codes) are evaluated by a
 * fast path that replays the library's parse and isValid steps on precompiled regexes taken from the
 * same max metadata (phone-number-fast-path.ts); PHONE_VALIDATION=library turns it off. The fast path reads
 * the metadata through accessors of the library's Metadata class that its typings do not declare,
 * so phone-number.spec.ts cross-checks both paths on example numbers of every region, their variants
 * and random digits: a library update that changes them fails there. Whenever the fast path meets
 * anything it does not model, or finds the number invalid, it defers to the library, which also
 * supplies the rejection reason (so invalid input costs library time).
 */
import {
  ParseError,
  isSupportedCountry,
  parsePhoneNumberWithError,
  validatePhoneNumberLength,
  type CountryCode,
} from 'libphonenumber-js/max';
import { fastNormalize } from './phone-number-fast-path.js';

export type PhoneRejectReason = 'EMPTY' | 'TOO_SHORT' | 'TOO_LONG' | 'INVALID_COUNTRY' | 'NOT_A_NUMBER' | 'INVALID_NUMBER';

export type PhoneNormalizeResult = { ok: true; e164: string } | { ok: false; reason: PhoneRejectReason };

/** The library rejects longer inputs outright. */
const MAX_INPUT_LENGTH = 250;

/** `fast`: the fast path first (see above); `library`: libphonenumber-js for every number. */
export type PhoneValidation = 'fast' | 'library';

export class PhoneNormalizer {
  readonly defaultRegion: CountryCode;

  constructor(
    defaultRegion: string,
    private readonly validation: PhoneValidation = 'fast',
  ) {
    if (!PhoneNormalizer.isValidRegion(defaultRegion)) {
      throw new Error(`Unsupported default phone region "${defaultRegion}" (expected an ISO 3166-1 alpha-2 code such as CH)`);
    }
    this.defaultRegion = defaultRegion.toUpperCase() as CountryCode;
  }

  /** True for ISO 3166-1 alpha-2 codes (any case) that libphonenumber has a numbering plan for. */
  static isValidRegion(code: string): boolean {
    return typeof code === 'string' && /^[A-Za-z]{2}$/.test(code) && isSupportedCountry(code.toUpperCase());
  }

  normalize(raw: string): PhoneNormalizeResult {
    const cleaned = cleanPhoneInput(raw);
    if (typeof cleaned !== 'string') return cleaned;
    const e164 = this.validation === 'fast' ? fastNormalize(cleaned, this.defaultRegion) : undefined;
    return e164 !== undefined ? { ok: true, e164 } : libraryNormalize(cleaned, this.defaultRegion);
  }
}

const FORMATTING = new Set([' ', '\t', '\u00a0', '\u2007', '\u202f', '-', '\u2010', '\u2011', '\u2012', '\u2013', '.', '/', '(', ')']);

/**
 * Reduces raw input to `+digits` or `digits` (an `00` prefix becomes `+`), or returns the
 * rejection for input that is blank or contains anything but digits and formatting.
 * @internal exported for tests
 */
export function cleanPhoneInput(raw: string): string | { ok: false; reason: PhoneRejectReason } {
  if (typeof raw !== 'string') return { ok: false, reason: raw == null ? 'EMPTY' : 'NOT_A_NUMBER' };
  let text = raw.trim();
  if (text.startsWith("'")) text = text.slice(1).trimStart();
  if (text.length === 0) return { ok: false, reason: 'EMPTY' };
  if (text.length > MAX_INPUT_LENGTH) return { ok: false, reason: 'TOO_LONG' };
  let digits = '';
  let plus = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch >= '0' && ch <= '9') digits += ch;
    else if ((ch === '+' || ch === '\uff0b') && digits.length === 0 && !plus) plus = true;
    else if (!FORMATTING.has(ch)) return { ok: false, reason: 'NOT_A_NUMBER' };
  }
  if (digits.length === 0) return { ok: false, reason: 'NOT_A_NUMBER' };
  if (!plus && digits.startsWith('00')) return '+' + digits.slice(2);
  return plus ? '+' + digits : digits;
}

/**
 * The library path: parse, `isValid()`, and the reason for a rejection.
 * @internal exported for tests
 */
export function libraryNormalize(cleaned: string, region: CountryCode): PhoneNormalizeResult {
  let phone;
  try {
    phone = parsePhoneNumberWithError(cleaned, { defaultCountry: region, extract: false });
  } catch (error) {
    if (error instanceof ParseError) return { ok: false, reason: parseErrorReason(error.message) };
    throw error;
  }
  if (phone.isValid()) return { ok: true, e164: phone.number };
  switch (validatePhoneNumberLength(cleaned, { defaultCountry: region })) {
    case 'TOO_SHORT':
      return { ok: false, reason: 'TOO_SHORT' };
    case 'TOO_LONG':
      return { ok: false, reason: 'TOO_LONG' };
    case 'INVALID_COUNTRY':
      return { ok: false, reason: 'INVALID_COUNTRY' };
    default:
      return { ok: false, reason: 'INVALID_NUMBER' };
  }
}

function parseErrorReason(message: string): PhoneRejectReason {
  switch (message) {
    case 'TOO_SHORT':
    case 'TOO_LONG':
    case 'INVALID_COUNTRY':
    case 'NOT_A_NUMBER':
      return message;
    default:
      return 'INVALID_NUMBER';
  }
}
