import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SegmentedMessage } from 'sms-segments-calculator';
import { splitGraphemes } from 'sms-segments-calculator/dist/libs/textUtils.js';
import { countSegments, type SegmentCount } from './sms-segments.js';
import { segmentInternals } from './sms-code-units.js';

const GSM_BASIC = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';

/** The library's own answer (slow: about 1 ms per text), in the shape of countSegments'. */
function countSegmentsWithLibrary(text: string): SegmentCount {
  const message = new SegmentedMessage(text, 'auto');
  return {
    segments: message.segmentsCount,
    encoding: message.encodingName,
    nonGsmCharacters: [...new Set(message.getNonGsmCharacters())],
  };
}

function expectSameAsLibrary(text: string): void {
  const fast = countSegments(text);
  const library = countSegmentsWithLibrary(text);
  if (fast.segments !== library.segments || fast.encoding !== library.encoding || fast.nonGsmCharacters.join('\u0000') !== library.nonGsmCharacters.join('\u0000')) {
    // Readable failure with the offending text escaped.
    expect({ text: JSON.stringify(text), ...fast }).toEqual({ text: JSON.stringify(text), ...library });
  }
}

describe('countSegments', () => {
  it.each([
    ['', 1, 'GSM-7'],
    ['a'.repeat(160), 1, 'GSM-7'],
    ['a'.repeat(161), 2, 'GSM-7'],
    ['a'.repeat(306), 2, 'GSM-7'],
    ['a'.repeat(307), 3, 'GSM-7'],
    ['{'.repeat(80), 1, 'GSM-7'],
    ['a'.repeat(159) + '€', 2, 'GSM-7'],
    // 152 septets + an extension pair: the pair does not fit the 153-septet first segment.
    ['a'.repeat(152) + '[' + 'a'.repeat(10), 2, 'GSM-7'],
    ['a'.repeat(152) + '[' + 'a'.repeat(153), 3, 'GSM-7'],
    ['ő'.repeat(70), 1, 'UCS-2'],
    ['ő'.repeat(71), 2, 'UCS-2'],
    ['ő'.repeat(134), 2, 'UCS-2'],
    ['ő'.repeat(135), 3, 'UCS-2'],
    ['😀'.repeat(35), 1, 'UCS-2'],
    ['😀'.repeat(36), 2, 'UCS-2'],
    ['a'.repeat(66) + '👨‍👩‍👧', 2, 'UCS-2'],
  ] as const)('known case %#', (text, segments, encoding) => {
    const result = countSegments(text);
    expect(result).toMatchObject({ segments, encoding });
    expect(result).toEqual(countSegmentsWithLibrary(text));
  });

  it('lists the characters that force UCS-2, unique and in order of appearance', () => {
    expect(countSegments('Grüezi Łukasz 😀 ß ł 😀').nonGsmCharacters).toEqual(['Ł', '😀', 'ł']);
    expect(countSegments('e\u0301').nonGsmCharacters).toEqual(['e\u0301']);
    expect(countSegments('Hello [world] ~ €').nonGsmCharacters).toEqual([]);
  });

  it('uses the GSM-7 table of the library for every BMP code unit', () => {
    for (const ch of GSM_BASIC) expect(segmentInternals.gsmSeptets(ch.charCodeAt(0))).toBe(1);
    for (const ch of GSM_EXTENSION) expect(segmentInternals.gsmSeptets(ch.charCodeAt(0))).toBe(2);
    for (let code = 0; code < 0x10000; code++) {
      if (code >= 0xd800 && code < 0xe000) continue;
      const text = String.fromCharCode(code);
      const library = countSegmentsWithLibrary(text);
      const septets = segmentInternals.gsmSeptets(code);
      if ((library.encoding === 'GSM-7') !== septets > 0) throw new Error(`U+${code.toString(16)}: library says ${library.encoding}`);
      expectSameAsLibrary(text);
      // 80 copies: 160 septets for the basic set, two segments for the extension set.
      if (septets > 0) expectSameAsLibrary(text.repeat(80));
    }
  }, 120_000);

  it('treats as stand-alone graphemes only the code units the library splitter never joins', () => {
    // For every code unit classified safe: "a" c c "a" is four grapheme clusters, which rules out
    // Extend/SpacingMark/ZWJ (joins "a" before), Prepend (joins "a" after) and Hangul L/V/T (c c).
    // Probed in small strings: the library's splitGraphemes is quadratic in the text length.
    let probe = '';
    let probes = 0;
    const check = () => {
      probe += 'a';
      const graphemes = splitGraphemes(probe);
      if (graphemes.length !== probe.length) {
        const offender = graphemes.find((g) => g.length > 1) ?? '';
        throw new Error(`joined cluster ${JSON.stringify(offender)} (U+${[...offender].map((x) => x.charCodeAt(0).toString(16)).join(' U+')})`);
      }
      probe = '';
    };
    for (let code = 0; code < 0x10000; code++) {
      const unsafe = segmentInternals.isUnsafeCodeUnit(code);
      if (code >= 0xd800 && code < 0xe000) {
        expect(unsafe).toBe(true);
        continue;
      }
      if (unsafe) continue;
      const c = String.fromCharCode(code);
      probe += 'a' + c + c;
      probes++;
      if (probe.length > 300) check();
    }
    check();
    expect(probes).toBeGreaterThan(60_000);
  }, 120_000);

  it('matches the library on boundary lengths', () => {
    const fill = (unit: string, count: number) => unit.repeat(count);
    for (const n of [152, 153, 154, 159, 160, 161, 305, 306, 307, 459, 460, 461]) {
      expectSameAsLibrary(fill('a', n));
      expectSameAsLibrary(fill('a', n - 1) + '€');
      expectSameAsLibrary(fill('a', n - 2) + '|a');
      expectSameAsLibrary('{' + fill('a', n - 2));
    }
    for (const n of [66, 67, 68, 69, 70, 71, 133, 134, 135, 136, 201, 202]) {
      expectSameAsLibrary(fill('ж', n));
      expectSameAsLibrary(fill('a', n - 1) + 'ж');
      expectSameAsLibrary(fill('a', n - 2) + '😀');
      expectSameAsLibrary(fill('a', n - 3) + '😀a');
      expectSameAsLibrary(fill('a', n - 1) + 'e\u0301');
      expectSameAsLibrary(fill('a', n - 4) + '🇨🇭');
      expectSameAsLibrary(fill('a', n - 6) + '👍🏽' + 'a\r\n');
    }
    // One grapheme longer than a whole segment (the library then overfills a segment).
    expectSameAsLibrary('e' + '\u0301'.repeat(80));
    expectSameAsLibrary('x'.repeat(60) + 'e' + '\u0301'.repeat(75) + 'y'.repeat(20));
  }, 120_000);

  /** Pieces random texts are built from: each kind of character the fast paths treat differently. */
  const pieces = {
    gsm: [...'Hallo Anna, Ihr Termin ist am 12.03. um 14:00 Uhr! Grüße ÄÖÜäöüß@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæÉ¡¿§\n\r'],
    extension: [...GSM_EXTENSION],
    latin: [...'Łłőűčšžąęćńśźżâêîôûçñÿœ’“”–—…¢°µ¶·×÷\t`\u00a0\u00ad'],
    otherScripts: [...'Привет мир Ελληνικά שלום مرحبا 你好世界 こんにちは カタカナ 안녕하세요 ไทย हिन्दी'],
    combining: ['e\u0301', 'a\u0308', '\u0301', 'ก\u0e31', 'न\u093f', '\u0600', '\u200d', '\ufe0f', '\u20e3', 'ᄀ', 'ᅡ', 'ᆨ', '각'],
    emoji: ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🇨🇭', '🇩🇪🇫', '❤️', '1️⃣', '🏳️‍🌈', '☝🏻', '🙂', '\ud83d', '\ude00'],
    crlf: ['\r\n', '\r', '\n'],
  };
  type Kind = keyof typeof pieces;

  function textArbitrary(kinds: Kind[], maxLength: number) {
    const pool = kinds.flatMap((k) => pieces[k]);
    return fc.array(fc.constantFrom(...pool), { minLength: 0, maxLength, size: 'max' }).map((parts) => parts.join(''));
  }

  it.each([
    ['pure GSM', ['gsm'], 500, 300],
    ['GSM with extension characters', ['gsm', 'extension'], 500, 400],
    ['UCS-2 without combining characters', ['gsm', 'extension', 'latin', 'otherScripts', 'crlf'], 300, 400],
    ['emoji', ['gsm', 'emoji'], 200, 400],
    ['combining marks and jamo', ['gsm', 'combining', 'latin'], 200, 300],
    ['everything', ['gsm', 'extension', 'latin', 'otherScripts', 'combining', 'emoji', 'crlf'], 300, 400],
  ] as Array<[string, Kind[], number, number]>)('matches the library on random texts: %s', (_name, kinds, maxLength, runs) => {
    fc.assert(
      fc.property(textArbitrary(kinds, maxLength), (text) => {
        expectSameAsLibrary(text);
      }),
      { numRuns: runs },
    );
  }, 300_000);

  it.each([
    ['GSM with extension characters', ['gsm', 'extension'], [152, 153, 154, 159, 160, 161, 305, 306, 307, 308, 458, 459, 460, 461]],
    ['UCS-2', ['gsm', 'latin', 'otherScripts', 'crlf'], [66, 67, 68, 69, 70, 71, 72, 133, 134, 135, 136, 200, 201, 202]],
    ['UCS-2 with graphemes', ['gsm', 'latin', 'emoji', 'combining'], [66, 67, 68, 69, 70, 71, 72, 133, 134, 135, 136, 200, 201, 202]],
  ] as Array<[string, Kind[], number[]]>)('matches the library on random texts cut at boundary lengths: %s', (_name, kinds, lengths) => {
    // Cutting at a code-unit length may also split a surrogate pair: lone surrogates are inputs too.
    fc.assert(
      fc.property(fc.constantFrom(...lengths), textArbitrary(kinds, 500), (length, text) => {
        expectSameAsLibrary(text.padEnd(length, 'x').slice(0, length));
      }),
      { numRuns: 300 },
    );
  }, 300_000);
});
