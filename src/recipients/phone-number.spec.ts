import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { getCountries, getExampleNumber, parsePhoneNumberWithError as parseMin } from 'libphonenumber-js/min';
import { type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { cleanPhoneInput, libraryNormalize, PhoneNormalizer } from './phone-number.js';
import { fastNormalize } from './phone-number-fast-path.js';

describe('PhoneNormalizer', () => {
  const ch = new PhoneNormalizer('CH');

  it.each([
    ['079 123 45 67', '+41791234567'],
    ['0791234567', '+41791234567'],
    ['+41 79 123 45 67', '+41791234567'],
    ['+41791234567', '+41791234567'],
    ['0041 79 123 45 67', '+41791234567'],
    ['(079) 123-45-67', '+41791234567'],
    ['079.123.45.67', '+41791234567'],
    ['079/123 45 67', '+41791234567'],
    ['+41 (0)79 123 45 67', '+41791234567'],
    ["'0791234567", '+41791234567'],
    ['  079\u00a0123\u00a045\u00a067 \t', '+41791234567'],
    ['41791234567', '+41791234567'],
    ['044 668 18 00', '+41446681800'],
    ['0800 123 456', '+41800123456'],
    ['+1 (213) 373-4253', '+12133734253'],
    ['001 213 373 4253', '+12133734253'],
    ['+44 7911 123456', '+447911123456'],
    ['00 49 1512 3456789', '+4915123456789'],
    ['+7 912 345 67 89', '+79123456789'],
    ['+54 9 11 2345 6789', '+5491123456789'],
  ])('%j → %s', (raw, e164) => {
    expect(ch.normalize(raw)).toEqual({ ok: true, e164 });
  });

  it.each([
    ['', 'EMPTY'],
    ['   ', 'EMPTY'],
    ["'", 'EMPTY'],
    ['abc', 'NOT_A_NUMBER'],
    ['---', 'NOT_A_NUMBER'],
    ['+', 'NOT_A_NUMBER'],
    ['++41791234567', 'NOT_A_NUMBER'],
    ['079 123 45 67 ext. 12', 'NOT_A_NUMBER'],
    ['079 123 45 67#', 'NOT_A_NUMBER'],
    ['41 79 123 45 67 +', 'NOT_A_NUMBER'],
    ['+41 79', 'TOO_SHORT'],
    ['7', 'TOO_SHORT'],
    ['+41 79 123 45 6', 'TOO_SHORT'],
    ['+41 79 123 45 67 8901 2345 678', 'TOO_LONG'],
    ['1'.repeat(300), 'TOO_LONG'],
    ['+999 123456789', 'INVALID_COUNTRY'],
    ['+0041791234567', 'INVALID_COUNTRY'],
    ['+41 11 111 11 11', 'INVALID_NUMBER'],
    ['079 123 45 678', 'INVALID_NUMBER'],
  ])('%j → %s', (raw, reason) => {
    expect(ch.normalize(raw)).toEqual({ ok: false, reason });
  });

  it('validates digits with the max metadata, not only lengths', () => {
    // 070 is not an allocated Swiss range: the min bundle accepts it, the max bundle does not.
    expect(parseMin('+41 70 123 45 67').isValid()).toBe(true);
    expect(ch.normalize('+41 70 123 45 67')).toEqual({ ok: false, reason: 'INVALID_NUMBER' });
  });

  it('reads national numbers in the default region', () => {
    expect(new PhoneNormalizer('US').normalize('(213) 373-4253')).toEqual({ ok: true, e164: '+12133734253' });
    expect(new PhoneNormalizer('US').normalize('011 41 79 123 45 67')).toEqual({ ok: true, e164: '+41791234567' });
    expect(new PhoneNormalizer('US').normalize('0041 79 123 45 67')).toEqual({ ok: true, e164: '+41791234567' });
    expect(new PhoneNormalizer('de').normalize('01512 3456789')).toEqual({ ok: true, e164: '+4915123456789' });
  });

  it('refuses non-string input without throwing', () => {
    expect(ch.normalize(undefined as unknown as string)).toEqual({ ok: false, reason: 'EMPTY' });
    expect(ch.normalize(41791234567 as unknown as string)).toEqual({ ok: false, reason: 'NOT_A_NUMBER' });
  });

  it('validates regions', () => {
    expect(PhoneNormalizer.isValidRegion('CH')).toBe(true);
    expect(PhoneNormalizer.isValidRegion('ch')).toBe(true);
    expect(PhoneNormalizer.isValidRegion('XX')).toBe(false);
    expect(PhoneNormalizer.isValidRegion('CHE')).toBe(false);
    expect(PhoneNormalizer.isValidRegion('')).toBe(false);
    expect(PhoneNormalizer.isValidRegion(undefined as unknown as string)).toBe(false);
    expect(() => new PhoneNormalizer('XX')).toThrow(/Unsupported default phone region/);
    expect(new PhoneNormalizer('ch').defaultRegion).toBe('CH');
  });

  it('cleans input to +digits or digits', () => {
    expect(cleanPhoneInput(' +41 (79) 123-45.67 ')).toBe('+41791234567');
    expect(cleanPhoneInput('0041 79')).toBe('+4179');
    expect(cleanPhoneInput('079 12')).toBe('07912');
    expect(cleanPhoneInput('＋41 79')).toBe('+4179');
    expect(cleanPhoneInput('07912x')).toEqual({ ok: false, reason: 'NOT_A_NUMBER' });
  });
});

describe('fast path equivalence with libphonenumber-js', () => {
  const countries = getCountries();
  const defaultRegions: CountryCode[] = ['CH', 'DE', 'US', 'GB', 'FR', 'IT', 'BR', 'AR', 'MX', 'RU', 'KZ', 'IN', 'CN', 'AU'];

  /** Variants of a valid number as people type them, plus near misses. */
  function variants(country: CountryCode, random: () => number): string[] {
    const example = getExampleNumber(country, examples);
    if (!example) return [];
    const e164 = example.number as string;
    const cc = example.countryCallingCode as string;
    const nsn = example.nationalNumber as string;
    const national = example.formatNational();
    const digit = () => String(Math.floor(random() * 10));
    const at = (s: string) => Math.floor(random() * s.length);
    const mutate = (s: string) => {
      const i = at(s);
      return s.slice(0, i) + digit() + s.slice(i + 1);
    };
    const insert = (s: string) => {
      const i = at(s);
      return s.slice(0, i) + digit() + s.slice(i);
    };
    const remove = (s: string) => {
      const i = at(s);
      return s.slice(0, i) + s.slice(i + 1);
    };
    return [
      e164,
      example.formatInternational(),
      '00' + e164.slice(1),
      national,
      nsn,
      cc + nsn,
      `+${cc}0${nsn}`,
      `+${cc}${mutate(nsn)}`,
      `+${cc}${insert(nsn)}`,
      `+${cc}${remove(nsn)}`,
      mutate(national),
      insert(national.replace(/\D/g, '')),
      remove(national.replace(/\D/g, '')),
      `+${cc}${nsn.slice(0, -2)}${digit()}${digit()}`,
      `+${cc}${nsn.slice(0, 2)}${nsn.slice(2).replace(/\d/g, digit)}`,
      nsn.slice(0, 2) + nsn.slice(2).replace(/\d/g, digit),
    ];
  }

  function compare(raw: string, region: CountryCode): 'fast' | 'library' {
    const cleaned = cleanPhoneInput(raw);
    if (typeof cleaned !== 'string') return 'library';
    const fast = fastNormalize(cleaned, region);
    if (fast === undefined) return 'library';
    const library = libraryNormalize(cleaned, region);
    expect({ raw, region, result: { ok: true, e164: fast } }).toEqual({ raw, region, result: library });
    return 'fast';
  }

  it('agrees on example numbers of every region and their variants, for several default regions', () => {
    let fastHits = 0;
    let checked = 0;
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    for (const country of countries) {
      for (const raw of variants(country, random)) {
        for (const region of [country, ...defaultRegions]) {
          checked++;
          if (compare(raw, region) === 'fast') fastHits++;
        }
      }
    }
    // The fast path must actually be exercised on a large share of the inputs.
    expect(checked).toBeGreaterThan(40_000);
    expect(fastHits).toBeGreaterThan(checked / 4);
  }, 300_000);

  it('agrees on random digit strings', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...defaultRegions),
        fc.boolean(),
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 18 }),
        (region, plus, digits) => {
          compare((plus ? '+' : '') + digits, region);
        },
      ),
      { numRuns: 20_000 },
    );
  }, 300_000);

  it('gives the same answers through normalize() as through the library alone', () => {
    const ch = new PhoneNormalizer('CH');
    const libraryOnly = new PhoneNormalizer('CH', 'library');
    for (const raw of ['079 123 45 67', '+41 70 123 45 67', '+44 7911 123456', '+1 999 555 0100', 'abc', '']) {
      expect(libraryOnly.normalize(raw)).toEqual(ch.normalize(raw));
    }
    for (const raw of ['079 123 45 67', '+41 70 123 45 67', '+44 7911 123456', '+1 999 555 0100', '0049 30 123456', '+0', '00', '000']) {
      const cleaned = cleanPhoneInput(raw);
      expect(ch.normalize(raw)).toEqual(typeof cleaned === 'string' ? libraryNormalize(cleaned, 'CH') : cleaned);
    }
  });
});
