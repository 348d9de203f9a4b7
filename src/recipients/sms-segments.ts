/**
 * SMS segment counting.
 *
 * Source of truth: Twilio's message-segment-calculator (`sms-segments-calculator`). Its
 * `SegmentedMessage` is however far too slow for imports (it re-sums every segment for every
 * character: ~1 ms per 150-character text, i.e. < 1k texts/s), so this module replays the
 * library's algorithm in O(n) on top of the library's *own* data and code:
 *
 *  - the GSM-7 character table is the library's `UnicodeToGSM` map (1 septet for the basic set,
 *    2 for the extension set `^{}[]~|€\` and form feed);
 *  - grapheme clusters come from the library's own `splitGraphemes` (grapheme-splitter, CRLF
 *    split in two), but it is only called for the small windows of a text around code units
 *    that can combine with their neighbours (combining marks, ZWJ, surrogate pairs, ...);
 *  - `packSegments` replays `SegmentedMessage._buildSegments` / `Segment.addHeader` step by step
 *    (1120-bit segments, a 6 × 8-bit user-data header once a message is concatenated, graphemes
 *    and escape + extension pairs never split across segments).
 *
 * Equivalence with `new SegmentedMessage(text)` (encodingName, segmentsCount and the unique
 * getNonGsmCharacters()) is checked by sms-segments.spec.ts exhaustively for every BMP code unit
 * and on thousands of random and boundary-length texts.
 */
import libraryGsmTable from 'sms-segments-calculator/dist/libs/UnicodeToGSM.js';
import { splitGraphemes } from 'sms-segments-calculator/dist/libs/textUtils.js';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentCount {
  segments: number;
  encoding: SmsEncoding;
  /** Characters (grapheme clusters) that forced UCS-2: unique, in order of first appearance; [] for GSM-7. */
  nonGsmCharacters: string[];
}

/** Code-unit classes. */
const UNSAFE = 0; // may join a grapheme cluster with its neighbours (or is a surrogate half)
const GSM_BASIC = 1; // GSM-7 basic set: 1 septet
const GSM_EXTENDED = 2; // GSM-7 extension set: escape + char = 2 septets
const SAFE_NON_GSM = 3; // not GSM-7, always a grapheme cluster of its own next to non-UNSAFE code units

/**
 * BMP code units (inclusive ranges) that grapheme-splitter (as used by the library) does not treat
 * as a stand-alone cluster: "a" + c + "a" is not 3 clusters or c + c is not 2. These are the
 * Extend, SpacingMark, ZWJ and Prepend characters and the Hangul L/V/T jamo. Generated from
 * grapheme-splitter 1.0.4; the spec re-derives the property for every BMP code unit and fails if
 * a code unit outside these ranges (and outside the surrogates) is not safe.
 *
 * Why that is enough: between two code units that are both outside these ranges and not
 * surrogates, grapheme-splitter always breaks (GB9/9a/9b need Extend, ZWJ, SpacingMark or Prepend;
 * GB6-8 need L, V or T next or L before; GB10-13 need E_Modifier, ZWJ or Regional_Indicator, which
 * are ZWJ or astral), except CR × LF, which the library splits again. So grapheme boundaries are
 * only uncertain next to UNSAFE code units.
 */
// prettier-ignore
const UNSAFE_RANGES: readonly number[] = [
  0x0300, 0x036f, 0x0483, 0x0489, 0x0591, 0x05bd, 0x05bf, 0x05bf, 0x05c1, 0x05c2, 0x05c4, 0x05c5,
  0x05c7, 0x05c7, 0x0600, 0x0605, 0x0610, 0x061a, 0x064b, 0x065f, 0x0670, 0x0670, 0x06d6, 0x06dd,
  0x06df, 0x06e4, 0x06e7, 0x06e8, 0x06ea, 0x06ed, 0x070f, 0x070f, 0x0711, 0x0711, 0x0730, 0x074a,
  0x07a6, 0x07b0, 0x07eb, 0x07f3, 0x0816, 0x0819, 0x081b, 0x0823, 0x0825, 0x0827, 0x0829, 0x082d,
  0x0859, 0x085b, 0x08d4, 0x0903, 0x093a, 0x093c, 0x093e, 0x094f, 0x0951, 0x0957, 0x0962, 0x0963,
  0x0981, 0x0983, 0x09bc, 0x09bc, 0x09be, 0x09c4, 0x09c7, 0x09c8, 0x09cb, 0x09cd, 0x09d7, 0x09d7,
  0x09e2, 0x09e3, 0x0a01, 0x0a03, 0x0a3c, 0x0a3c, 0x0a3e, 0x0a42, 0x0a47, 0x0a48, 0x0a4b, 0x0a4d,
  0x0a51, 0x0a51, 0x0a70, 0x0a71, 0x0a75, 0x0a75, 0x0a81, 0x0a83, 0x0abc, 0x0abc, 0x0abe, 0x0ac5,
  0x0ac7, 0x0ac9, 0x0acb, 0x0acd, 0x0ae2, 0x0ae3, 0x0afa, 0x0aff, 0x0b01, 0x0b03, 0x0b3c, 0x0b3c,
  0x0b3e, 0x0b44, 0x0b47, 0x0b48, 0x0b4b, 0x0b4d, 0x0b56, 0x0b57, 0x0b62, 0x0b63, 0x0b82, 0x0b82,
  0x0bbe, 0x0bc2, 0x0bc6, 0x0bc8, 0x0bca, 0x0bcd, 0x0bd7, 0x0bd7, 0x0c00, 0x0c03, 0x0c3e, 0x0c44,
  0x0c46, 0x0c48, 0x0c4a, 0x0c4d, 0x0c55, 0x0c56, 0x0c62, 0x0c63, 0x0c81, 0x0c83, 0x0cbc, 0x0cbc,
  0x0cbe, 0x0cc4, 0x0cc6, 0x0cc8, 0x0cca, 0x0ccd, 0x0cd5, 0x0cd6, 0x0ce2, 0x0ce3, 0x0d00, 0x0d03,
  0x0d3b, 0x0d3c, 0x0d3e, 0x0d44, 0x0d46, 0x0d48, 0x0d4a, 0x0d4e, 0x0d57, 0x0d57, 0x0d62, 0x0d63,
  0x0d82, 0x0d83, 0x0dca, 0x0dca, 0x0dcf, 0x0dd4, 0x0dd6, 0x0dd6, 0x0dd8, 0x0ddf, 0x0df2, 0x0df3,
  0x0e31, 0x0e31, 0x0e33, 0x0e3a, 0x0e47, 0x0e4e, 0x0eb1, 0x0eb1, 0x0eb3, 0x0eb9, 0x0ebb, 0x0ebc,
  0x0ec8, 0x0ecd, 0x0f18, 0x0f19, 0x0f35, 0x0f35, 0x0f37, 0x0f37, 0x0f39, 0x0f39, 0x0f3e, 0x0f3f,
  0x0f71, 0x0f84, 0x0f86, 0x0f87, 0x0f8d, 0x0f97, 0x0f99, 0x0fbc, 0x0fc6, 0x0fc6, 0x102d, 0x1037,
  0x1039, 0x103e, 0x1056, 0x1059, 0x105e, 0x1060, 0x1071, 0x1074, 0x1082, 0x1082, 0x1084, 0x1086,
  0x108d, 0x108d, 0x109d, 0x109d, 0x1100, 0x11ff, 0x135d, 0x135f, 0x1712, 0x1714, 0x1732, 0x1734,
  0x1752, 0x1753, 0x1772, 0x1773, 0x17b4, 0x17d3, 0x17dd, 0x17dd, 0x180b, 0x180d, 0x1885, 0x1886,
  0x18a9, 0x18a9, 0x1920, 0x192b, 0x1930, 0x193b, 0x1a17, 0x1a1b, 0x1a55, 0x1a5e, 0x1a60, 0x1a60,
  0x1a62, 0x1a62, 0x1a65, 0x1a7c, 0x1a7f, 0x1a7f, 0x1ab0, 0x1abe, 0x1b00, 0x1b04, 0x1b34, 0x1b44,
  0x1b6b, 0x1b73, 0x1b80, 0x1b82, 0x1ba1, 0x1bad, 0x1be6, 0x1bf3, 0x1c24, 0x1c37, 0x1cd0, 0x1cd2,
  0x1cd4, 0x1ce8, 0x1ced, 0x1ced, 0x1cf2, 0x1cf4, 0x1cf7, 0x1cf9, 0x1dc0, 0x1df9, 0x1dfb, 0x1dff,
  0x200c, 0x200d, 0x20d0, 0x20f0, 0x2cef, 0x2cf1, 0x2d7f, 0x2d7f, 0x2de0, 0x2dff, 0x302a, 0x302f,
  0x3099, 0x309a, 0xa66f, 0xa672, 0xa674, 0xa67d, 0xa69e, 0xa69f, 0xa6f0, 0xa6f1, 0xa802, 0xa802,
  0xa806, 0xa806, 0xa80b, 0xa80b, 0xa823, 0xa827, 0xa880, 0xa881, 0xa8b4, 0xa8c5, 0xa8e0, 0xa8f1,
  0xa926, 0xa92d, 0xa947, 0xa953, 0xa960, 0xa97c, 0xa980, 0xa983, 0xa9b3, 0xa9c0, 0xa9e5, 0xa9e5,
  0xaa29, 0xaa36, 0xaa43, 0xaa43, 0xaa4c, 0xaa4d, 0xaa7c, 0xaa7c, 0xaab0, 0xaab0, 0xaab2, 0xaab4,
  0xaab7, 0xaab8, 0xaabe, 0xaabf, 0xaac1, 0xaac1, 0xaaeb, 0xaaef, 0xaaf5, 0xaaf6, 0xabe3, 0xabea,
  0xabec, 0xabed, 0xd7b0, 0xd7c6, 0xd7cb, 0xd7fb, 0xfb1e, 0xfb1e, 0xfe00, 0xfe0f, 0xfe20, 0xfe2f,
  0xff9e, 0xff9f,
];

const CLASS = buildClassTable();

function buildClassTable(): Uint8Array {
  const table = new Uint8Array(0x10000).fill(SAFE_NON_GSM);
  table.fill(UNSAFE, 0xd800, 0xe000); // surrogate halves
  for (let i = 0; i < UNSAFE_RANGES.length; i += 2) table.fill(UNSAFE, UNSAFE_RANGES[i], UNSAFE_RANGES[i + 1] + 1);
  for (const [key, septets] of Object.entries(gsmTable())) {
    table[Number(key)] = septets.length === 1 ? GSM_BASIC : GSM_EXTENDED;
  }
  return table;
}

/** The library's map from UTF-16 code unit to GSM-7 septets (a CommonJS `exports.default`). */
function gsmTable(): Record<string, number[]> {
  const mod = libraryGsmTable as unknown as { default?: Record<string, number[]> } & Record<string, number[]>;
  const table = mod.default ?? mod;
  if (!table || typeof table !== 'object' || !Array.isArray(table[0x40]) || !Array.isArray(table[0x20ac])) {
    throw new Error('sms-segments-calculator: unexpected UnicodeToGSM table layout');
  }
  return table;
}

/** @internal for the equivalence spec: the code-unit classification. */
export const segmentInternals = {
  isUnsafeCodeUnit: (code: number): boolean => CLASS[code] === UNSAFE,
  gsmSeptets: (code: number): number => (CLASS[code] === GSM_BASIC ? 1 : CLASS[code] === GSM_EXTENDED ? 2 : 0),
};

/** Sizes used by the library: a segment is 140 octets; concatenated ones carry a 6-octet UDH. */
const SEGMENT_BITS = 1120;
const UDH_BITS = 48;
const GSM_SINGLE = 160;
const GSM_MULTI = 153;
const UCS2_SINGLE = 70;
const UCS2_MULTI = 67;

/** Scratch buffer for per-character sizes (bits); module-level to avoid an allocation per text. */
let sizes = new Int32Array(1024);
function sizeBuffer(n: number): Int32Array {
  if (sizes.length < n) sizes = new Int32Array(Math.max(n, sizes.length * 2));
  return sizes;
}

/**
 * Replays SegmentedMessage._buildSegments over `n` characters of the given sizes in bits: each
 * character is appended to the current segment; when one does not fit, a new segment with a
 * user-data header is started (and the character appended to it even if it still does not fit).
 * The first time that happens, the first segment gets its header too and hands the characters at
 * its end that no longer fit over to the new segment (Segment.addHeader).
 */
function packSegments(bits: Int32Array, n: number): number {
  let count = 1;
  let used = 0;
  let inFirst = true;
  for (let k = 0; k < n; k++) {
    const size = bits[k];
    if (SEGMENT_BITS - used < size) {
      if (inFirst) {
        // The first segment holds characters 0..k-1.
        let firstBits = used + UDH_BITS;
        let moved = 0;
        for (let j = k - 1; firstBits > SEGMENT_BITS && j >= 0; j--) {
          firstBits -= bits[j];
          moved += bits[j];
        }
        used = UDH_BITS + moved;
        inFirst = false;
      } else {
        used = UDH_BITS;
      }
      count++;
    }
    used += size;
  }
  return count;
}

/**
 * Number of SMS segments, encoding and the characters that forced UCS-2, exactly as
 * `new SegmentedMessage(text)` (auto encoding, no smart encoding) computes them. An empty text is
 * one GSM-7 segment, as in the library.
 */
export function countSegments(text: string): SegmentCount {
  const n = text.length;
  let septets = 0;
  let extended = false;
  let i = 0;
  for (; i < n; i++) {
    const c = CLASS[text.charCodeAt(i)];
    if (c === GSM_BASIC) septets++;
    else if (c === GSM_EXTENDED) {
      septets += 2;
      extended = true;
    } else break;
  }
  if (i === n) return { segments: gsmSegments(text, septets, extended), encoding: 'GSM-7', nonGsmCharacters: [] };

  // UCS-2. Fast path when every code unit is a grapheme cluster of its own (16 bits each).
  for (let j = i; j < n; j++) {
    if (CLASS[text.charCodeAt(j)] === UNSAFE) return countWithGraphemes(text);
  }
  return { segments: n <= UCS2_SINGLE ? 1 : Math.ceil(n / UCS2_MULTI), encoding: 'UCS-2', nonGsmCharacters: nonGsmCodeUnits(text, i) };
}

function gsmSegments(text: string, septets: number, extended: boolean): number {
  if (septets <= GSM_SINGLE) return 1;
  if (!extended) return Math.ceil(septets / GSM_MULTI);
  // An escape + extension character pair is never split across segments. With characters of one
  // or two septets, packSegments reduces to filling 153-septet segments greedily: the first
  // segment keeps its longest prefix of at most 153 septets and the at most 8 septets it hands
  // over, plus the next character, always fit the second segment.
  let count = 1;
  let fill = 0;
  for (let k = 0; k < text.length; k++) {
    const size = CLASS[text.charCodeAt(k)] === GSM_EXTENDED ? 2 : 1;
    if (fill + size > GSM_MULTI) {
      count++;
      fill = 0;
    }
    fill += size;
  }
  return count;
}

/** "Seen in the current text" marks per code unit, to collect unique characters without a Set. */
const seen = new Uint32Array(0x10000);
let seenStamp = 0;

/** Unique SAFE_NON_GSM code units of text[from..], in order of first appearance. */
function nonGsmCodeUnits(text: string, from: number): string[] {
  if (++seenStamp === 0xffffffff) {
    seen.fill(0);
    seenStamp = 1;
  }
  const stamp = seenStamp;
  const found: string[] = [];
  for (let j = from; j < text.length; j++) {
    const code = text.charCodeAt(j);
    if (CLASS[code] === SAFE_NON_GSM && seen[code] !== stamp) {
      seen[code] = stamp;
      found.push(String.fromCharCode(code));
    }
  }
  return found;
}

/**
 * Grapheme clusters of a chunk (see countWithGraphemes) by the library's splitter. A chunk's split
 * depends on nothing but the chunk, so results are cached: the same few chunks (an emoji with the
 * characters around it) recur in every recipient's text. Bounded: cleared when full.
 */
const chunkGraphemes = new Map<string, readonly string[]>();
const CHUNK_CACHE_SIZE = 20_000;

function graphemesOfChunk(chunk: string): readonly string[] {
  let graphemes = chunkGraphemes.get(chunk);
  if (graphemes === undefined) {
    graphemes = splitGraphemes(chunk);
    if (chunkGraphemes.size >= CHUNK_CACHE_SIZE) chunkGraphemes.clear();
    chunkGraphemes.set(chunk, graphemes);
  }
  return graphemes;
}

/**
 * UCS-2 text with code units that may combine. A boundary between two non-UNSAFE code units is
 * always a grapheme boundary (see UNSAFE_RANGES), so the text is cut at those boundaries: runs of
 * safe code units are one grapheme each, and only the chunks around UNSAFE code units go through
 * the library's grapheme splitter. A chunk starts and ends on a certain boundary, so it splits
 * exactly as it does inside the whole text.
 */
function countWithGraphemes(text: string): SegmentCount {
  const n = text.length;
  const bits = sizeBuffer(n);
  let count = 0;
  const nonGsm = new Set<string>();
  let i = 0; // always on a certain boundary
  while (i < n) {
    let unsafe = i;
    while (unsafe < n && CLASS[text.charCodeAt(unsafe)] !== UNSAFE) unsafe++;
    // Code units before the chunk: the one right before an UNSAFE code unit belongs to its chunk.
    const chunkStart = unsafe === n ? n : unsafe > i ? unsafe - 1 : i;
    bits.fill(16, count, count + (chunkStart - i));
    count += chunkStart - i;
    for (let j = i; j < chunkStart; j++) {
      if (CLASS[text.charCodeAt(j)] === SAFE_NON_GSM) nonGsm.add(text[j]);
    }
    if (chunkStart === n) break;
    // The chunk ends at the next boundary between two safe code units (or the end of the text).
    let end = unsafe + 1;
    while (end < n && !(CLASS[text.charCodeAt(end - 1)] !== UNSAFE && CLASS[text.charCodeAt(end)] !== UNSAFE)) end++;
    for (const grapheme of graphemesOfChunk(text.slice(chunkStart, end))) {
      bits[count++] = 16 * grapheme.length;
      const c = CLASS[grapheme.charCodeAt(0)];
      if (grapheme.length !== 1 || c === SAFE_NON_GSM || c === UNSAFE) nonGsm.add(grapheme);
    }
    i = end;
  }
  return { segments: packSegments(bits, count), encoding: 'UCS-2', nonGsmCharacters: [...nonGsm] };
}
