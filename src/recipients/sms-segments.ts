/**
 * SMS segment counting.
 *
 * Source of truth: Twilio's message-segment-calculator (`sms-segments-calculator`). Its
 * `SegmentedMessage` is however far too slow for imports (it re-sums every segment for every
 * character: ~1 ms per 150-character text, i.e. < 1k texts/s), so this module replays the
 * library's algorithm in O(n) on top of the library's *own* data and code:
 *
 *  - the GSM-7 character table (sms-code-units.ts) is the library's `UnicodeToGSM` map (1 septet
 *    for the basic set, 2 for the extension set `^{}[]~|€\` and form feed);
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
import { splitGraphemes } from 'sms-segments-calculator/dist/libs/textUtils.js';
import { CODE_UNIT_CLASS as CLASS, GSM_BASIC, GSM_EXTENDED, SAFE_NON_GSM, UNSAFE } from './sms-code-units.js';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentCount {
  segments: number;
  encoding: SmsEncoding;
  /** Characters (grapheme clusters) that forced UCS-2: unique, in order of first appearance; [] for GSM-7. */
  nonGsmCharacters: string[];
}

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
 * always a grapheme boundary (see UNSAFE_RANGES in sms-code-units.ts), so the text is cut at those
 * boundaries: runs of safe code units are one grapheme each, and only the chunks around UNSAFE code
 * units go through the library's grapheme splitter. A chunk starts and ends on a certain boundary, so it splits
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
