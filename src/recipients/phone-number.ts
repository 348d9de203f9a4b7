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
 * below makes the difference moot. Mobile-only validation (the `mobile` bundle) is not applied:
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
 * minimal SQL path), with the fast path below it reached it, and its peak memory grew far less (the
 * library allocates several objects per number). So the common cases (digits with or without `+`, no
 * national-prefix transform rules, no carrier codes, geographic calling codes) are evaluated by a
 * fast path that replays the library's parse and isValid steps on precompiled regexes taken from the
 * same max metadata; PHONE_VALIDATION=library turns it off. The fast path reads the metadata through
 * accessors of the library's Metadata class that its typings do not declare (RuntimeMetadata below),
 * so phone-number.spec.ts cross-checks both paths on example numbers of every region, their variants
 * and random digits: a library update that changes them fails there. Whenever the fast path meets
 * anything it does not model, or finds the number invalid, it defers to the library, which also
 * supplies the rejection reason (so invalid input costs library time).
 */
import {
  Metadata,
  ParseError,
  isSupportedCountry,
  parsePhoneNumberWithError,
  validatePhoneNumberLength,
  type CountryCode,
} from 'libphonenumber-js/max';

export type PhoneRejectReason = 'EMPTY' | 'TOO_SHORT' | 'TOO_LONG' | 'INVALID_COUNTRY' | 'NOT_A_NUMBER' | 'INVALID_NUMBER';

export type PhoneNormalizeResult = { ok: true; e164: string } | { ok: false; reason: PhoneRejectReason };

/** The library rejects longer inputs outright. */
const MAX_INPUT_LENGTH = 250;
/** libphonenumber's MIN_LENGTH_FOR_NSN / MAX_LENGTH_FOR_NSN / MAX_LENGTH_COUNTRY_CODE. */
const MIN_NSN = 2;
const MAX_NSN = 17;
const MAX_CALLING_CODE = 3;

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

// ---------------------------------------------------------------------------------------------
// Fast path: a replay of libphonenumber-js 1.x parse() (v2, extract: false) + isValid() for the
// inputs it models. Every function returns `undefined` ("ask the library") for anything else.
// ---------------------------------------------------------------------------------------------

/** The runtime accessors of libphonenumber's Metadata/NumberingPlan used here (not in its typings). */
interface RuntimeType {
  pattern(): string;
  possibleLengths(): number[] | undefined;
}
interface RuntimeNumberingPlan {
  callingCode(): string;
  IDDPrefix(): string;
  nationalNumberPattern(): string;
  possibleLengths(): number[] | undefined;
  nationalPrefixForParsing(): string | undefined;
  nationalPrefixTransformRule(): string | undefined;
  leadingDigits(): string | undefined;
  hasTypes(): boolean;
  type(type: string): RuntimeType | undefined;
}
interface RuntimeMetadata {
  numberingPlan: RuntimeNumberingPlan;
  selectNumberingPlan(countryOrCallingCode: string): void;
  hasCallingCode(callingCode: string): boolean;
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
}

/** getNumberType's order: FIXED_LINE first, then NON_FIXED_LINE_PHONE_TYPES. */
const NUMBER_TYPES = ['FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

interface CompiledPlan {
  country: string;
  callingCode: string;
  /** ^(?:IDD prefix) */
  idd: RegExp;
  /** ^(?:national prefix for parsing), if any */
  nationalPrefix: RegExp | null;
  /** ^(?:leading digits), if any (used to pick a country among those sharing a calling code) */
  leadingDigits: RegExp | null;
  /** ^(?:national number pattern)$ */
  general: RegExp;
  possibleLengths: number[] | undefined;
  hasTypes: boolean;
  types: Array<{ pattern: RegExp; lengths: number[] | undefined }>;
}

const metadata = new Metadata() as unknown as RuntimeMetadata;
const plans = new Map<string, CompiledPlan>();

function planFor(country: string): CompiledPlan {
  let plan = plans.get(country);
  if (plan === undefined) {
    metadata.selectNumberingPlan(country);
    const p = metadata.numberingPlan;
    const prefix = p.nationalPrefixForParsing();
    const leading = p.leadingDigits();
    const types: CompiledPlan['types'] = [];
    for (const name of NUMBER_TYPES) {
      const type = p.type(name);
      if (type && type.pattern()) types.push({ pattern: anchored(type.pattern()), lengths: type.possibleLengths() });
    }
    plan = {
      country,
      callingCode: p.callingCode(),
      idd: new RegExp(`^(?:${p.IDDPrefix()})`),
      nationalPrefix: prefix ? new RegExp(`^(?:${prefix})`) : null,
      leadingDigits: leading ? new RegExp(`^(?:${leading})`) : null,
      general: anchored(p.nationalNumberPattern()),
      possibleLengths: p.possibleLengths(),
      hasTypes: p.hasTypes(),
      types,
    };
    plans.set(country, plan);
  }
  return plan;
}

function anchored(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** Countries of a geographic calling code (undefined for unknown and non-geographic codes). */
const countriesByCallingCode = new Map<string, string[] | undefined>();
function countriesFor(callingCode: string): string[] | undefined {
  if (!countriesByCallingCode.has(callingCode)) {
    const countries = metadata.getCountryCodesForCallingCode(callingCode);
    countriesByCallingCode.set(callingCode, countries && countries.length > 0 && !countries.includes('001') ? [...countries] : undefined);
  }
  return countriesByCallingCode.get(callingCode);
}

const callingCodes = new Map<string, boolean>();
function isCallingCode(candidate: string): boolean {
  let known = callingCodes.get(candidate);
  if (known === undefined) {
    known = Boolean(metadata.hasCallingCode(candidate));
    callingCodes.set(candidate, known);
  }
  return known;
}

/** getNumberType(...) !== undefined */
function hasNumberType(plan: CompiledPlan, nationalNumber: string): boolean {
  if (!plan.general.test(nationalNumber)) return false;
  const length = nationalNumber.length;
  for (const type of plan.types) {
    if (type.lengths && !type.lengths.includes(length)) continue;
    if (type.pattern.test(nationalNumber)) return true;
  }
  return false;
}

/** isValidNumber() */
function isValidFor(plan: CompiledPlan, nationalNumber: string): boolean {
  return plan.hasTypes ? hasNumberType(plan, nationalNumber) : plan.general.test(nationalNumber);
}

/** getCountryByCallingCode(); `null` = no country matched, `undefined` = not modelled. */
function exactCountry(countries: string[], nationalNumber: string): string | null {
  if (countries.length === 1) return countries[0];
  for (const country of countries) {
    const plan = planFor(country);
    if (plan.leadingDigits) {
      if (plan.leadingDigits.test(nationalNumber)) return country;
    } else if (hasNumberType(plan, nationalNumber)) {
      return country;
    }
  }
  return null;
}

/** checkNumberLength() is TOO_SHORT or INVALID_LENGTH */
function isImpossibleLength(lengths: number[], length: number): boolean {
  const min = lengths[0];
  if (min === length) return false;
  if (min > length) return true;
  if (lengths[lengths.length - 1] < length) return false; // TOO_LONG
  return lengths.indexOf(length, 1) < 0;
}

/**
 * extractNationalNumber() with `plan` selected. Undefined when a national prefix with captured
 * groups (transform rules, carrier codes) is involved.
 */
function extractNationalNumber(number: string, plan: CompiledPlan, countries: string[]): string | undefined {
  if (number.length === 0 || plan.nationalPrefix === null) return number;
  const match = plan.nationalPrefix.exec(number);
  if (match === null) return number;
  const groups = match.length - 1;
  if (groups > 0 && match[groups]) return undefined;
  const nationalNumber = number.slice(match[0].length);
  if (nationalNumber === number) return number;
  if (plan.general.test(number) && !plan.general.test(nationalNumber)) return number;
  if (plan.possibleLengths) {
    const country = exactCountry(countries, nationalNumber);
    const lengths = country !== null ? planFor(country).possibleLengths : plan.possibleLengths;
    if (lengths && isImpossibleLength(lengths, nationalNumber.length)) return number;
  }
  return nationalNumber;
}

/**
 * E.164 for a cleaned `+digits`/`digits` input when the fast path can prove it valid, otherwise
 * undefined (invalid or not modelled: ask the library).
 * @internal exported for tests
 */
export function fastNormalize(cleaned: string, region: string): string | undefined {
  const international = cleaned.charCodeAt(0) === 43; // '+'
  const digits = international ? cleaned.slice(1) : cleaned;
  if (digits.length < 3 || digits.length > MAX_CALLING_CODE + MAX_NSN) return undefined;

  let callingCode: string | undefined;
  let rest: string;
  let selected: CompiledPlan; // the numbering plan parse() has selected when extracting the national number
  let fallbackCountry: string | undefined; // parse()'s country when no exact country is found
  if (international) {
    if (digits.charCodeAt(0) === 48) return undefined; // "+0..."
    for (let i = 1; i <= MAX_CALLING_CODE && i <= digits.length; i++) {
      const candidate = digits.slice(0, i);
      if (isCallingCode(candidate)) {
        callingCode = candidate;
        break;
      }
    }
    if (callingCode === undefined) return undefined;
    const countries = countriesFor(callingCode);
    if (countries === undefined) return undefined;
    selected = planFor(countries[0]);
    rest = digits.slice(callingCode.length);
    fallbackCountry = undefined;
  } else {
    selected = planFor(region);
    if (selected.idd.test(digits)) return undefined; // international prefix of the region
    if (digits.startsWith(selected.callingCode)) return undefined; // maybe a calling code without "+"
    callingCode = selected.callingCode;
    rest = digits;
    fallbackCountry = region;
  }
  const countries = countriesFor(callingCode);
  if (countries === undefined || rest.length === 0) return undefined;

  const nationalNumber = extractNationalNumber(rest, selected, countries);
  if (nationalNumber === undefined || nationalNumber.length < MIN_NSN || nationalNumber.length > MAX_NSN) return undefined;

  const country = exactCountry(countries, nationalNumber) ?? fallbackCountry;
  // isValid() selects the country's plan, or the calling code's main plan when there is none.
  const plan = country !== undefined ? planFor(country) : planFor(countries[0]);
  return isValidFor(plan, nationalNumber) ? `+${callingCode}${nationalNumber}` : undefined;
}
