/**
 * The fast path of phone normalisation (see phone-number.ts for why it exists): a replay of libphonenumber-js
 * 1.x parse() (v2, extract: false) + isValid() for the inputs it models, on precompiled regexes taken from the
 * library's own max metadata. Every function returns `undefined` ("ask the library") for anything else.
 * phone-number.spec.ts cross-checks it against the library on example numbers of every region, their variants
 * and random digits.
 */
import { Metadata } from 'libphonenumber-js/max';

/** libphonenumber's MIN_LENGTH_FOR_NSN / MAX_LENGTH_FOR_NSN / MAX_LENGTH_COUNTRY_CODE. */
const MIN_NSN = 2;
const MAX_NSN = 17;
const MAX_CALLING_CODE = 3;

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
