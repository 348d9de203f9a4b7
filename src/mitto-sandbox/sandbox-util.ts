// Small pure helpers of the Mitto sandbox: ULID-like message ids, a seedable random source and the
// SMS segment count.

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CROCKFORD_VALUE: Record<string, number> = Object.fromEntries([...CROCKFORD].map((c, i) => [c, i]));

/** Encodes a non-negative integer (< 2^53) as exactly `width` Crockford base32 characters. */
export function encodeBase32(value: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = CROCKFORD[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

/** Decodes Crockford base32 (upper case, no aliases); -1 when a character is not in the alphabet. */
export function decodeBase32(text: string): number {
  let value = 0;
  for (const c of text) {
    const digit = CROCKFORD_VALUE[c];
    if (digit === undefined) return -1;
    value = value * 32 + digit;
  }
  return value;
}

/**
 * Message ids look like Mitto's (26-char ULIDs, e.g. `01K8RBH8A6J1410YE2M9G780PK`) but are built so that the
 * sandbox needs no id → record map: 10 chars of millisecond time (as in a ULID), a 6-char random tag that
 * changes on every reset (so ids from before a reset are unknown, as they would be at a fresh provider), then
 * the record's index in 10 chars. Time first and a counter last keep ids time-ordered and unique.
 */
export const ID_TIME_CHARS = 10;
export const ID_TAG_CHARS = 6;
export const ID_INDEX_CHARS = 10;
export const ID_LENGTH = ID_TIME_CHARS + ID_TAG_CHARS + ID_INDEX_CHARS;

export function randomTag(): string {
  return encodeBase32(Math.floor(Math.random() * 2 ** 30), ID_TAG_CHARS);
}

/** A uniform [0,1) source: Math.random, or mulberry32 when a seed is given (deterministic tests). */
export function createRandom(seed?: number): () => number {
  if (seed === undefined || !Number.isFinite(seed)) return Math.random;
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// GSM 03.38 basic set (one septet each) and extension set (escape + char = two septets).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('^{}\\[~]|€\f');

/**
 * Number of SMS parts for a text: GSM-7 160 per single SMS / 153 per part, UCS-2 70 / 67 (docs/mitto-api.md,
 * "Encoding"). UCS-2 lengths count UTF-16 code units, which is what the handsets' encoders do.
 */
export function messageParts(text: string): number {
  let septets = 0;
  for (const c of text) {
    if (GSM_BASIC.has(c)) septets += 1;
    else if (GSM_EXTENSION.has(c)) septets += 2;
    else {
      return text.length <= 70 ? 1 : Math.ceil(text.length / 67);
    }
  }
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}

/** `description` sent with each delivery status (free text at Mitto; these wordings are assumed). */
export const STATUS_DESCRIPTION = {
  Sent: 'Message sent to the operator',
  Delivered: 'Message delivered to the handset',
  Failure: 'Message could not be delivered',
} as const;
