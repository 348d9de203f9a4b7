import { SegmentedMessage } from 'sms-segments-calculator';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentCount {
  segments: number;
  encoding: SmsEncoding;
  nonGsmCharacters: string[];
}

// GSM 03.38 basic set and extension table (extension characters take two septets).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';
const SEPTETS = new Map<number, number>();
for (const ch of GSM_BASIC) SEPTETS.set(ch.charCodeAt(0), 1);
for (const ch of GSM_EXTENSION) SEPTETS.set(ch.charCodeAt(0), 2);

/**
 * Segments of one SMS text, with Twilio's message-segment-calculator as the source of truth
 * (GSM-7 160/153, UCS-2 70/67, extension characters count two, one non-GSM character makes the
 * whole message UCS-2). Fast path, equal by construction and cross-checked in the spec: a pure-GSM
 * text that fits in one segment needs no library call. Everything else goes to the library,
 * with a small cache because campaign texts repeat.
 */
export function countSegments(text: string): SegmentCount {
  let septets = 0;
  for (let i = 0; i < text.length; i++) {
    const s = SEPTETS.get(text.charCodeAt(i));
    if (s === undefined) {
      septets = -1;
      break;
    }
    septets += s;
  }
  if (septets >= 0 && septets <= 160) return { segments: 1, encoding: 'GSM-7', nonGsmCharacters: [] };
  return library(text);
}

const cache = new Map<string, SegmentCount>();
const CACHE_MAX = 10_000;

function library(text: string): SegmentCount {
  const hit = cache.get(text);
  if (hit) return hit;
  const m = new SegmentedMessage(text, 'auto');
  const result: SegmentCount = {
    segments: m.segmentsCount,
    encoding: m.encodingName,
    nonGsmCharacters: m.encodingName === 'UCS-2' ? [...new Set(m.getNonGsmCharacters())] : [],
  };
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(text, result);
  return result;
}

/** The library's answer, without the fast path (for the equivalence test). */
export function countSegmentsWithLibrary(text: string): SegmentCount {
  return library(text);
}
