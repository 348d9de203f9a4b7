/**
 * One chunk of a campaign's new messages, encoded as PostgreSQL `COPY … FROM STDIN` text rows with
 * the columns (campaign_id, seq, id, phone, variables, segments) of `campaign_messages`.
 *
 * Rows are written straight into Buffers allocated once at their full size and reused from chunk to
 * chunk, so an import keeps no per-row objects alive while its previous chunk is in PostgreSQL and
 * its memory does not depend on the size of the file.
 *
 * Message ids are UUIDv7 (time-ordered, so the primary-key index is appended to, not split all
 * over): one fresh `uuid` v7 per chunk, whose last 32 bits are replaced by the row's position in
 * the chunk (RFC 9562 allows a counter in the random bits). A v7 per row from the library cost
 * ~5 µs, a third of the import's per-row budget in Node.js. Unique: the library's v7 is monotonic
 * within the process (its 32-bit counter sits before the replaced bits) and carries 42 random bits
 * across processes, and the primary key would refuse a collision rather than store it.
 */
import { v7 as uuidv7 } from 'uuid';

export interface NewMessage {
  /** E.164 (`+` and digits only). */
  phone: string;
  variables: Record<string, string> | null;
  segments: number;
  ucs2: boolean;
}

/** A chunk is written once it holds this many rows or bytes, whichever comes first. */
export const CHUNK_LIMITS = { rows: 20_000, bytes: 2 * 1024 * 1024 } as const;
/** Room for one more row past the byte limit (50 variables of 1,000 characters, escaped). */
const ROW_ROOM = 512 * 1024;

/**
 * The rows of one chunk in two COPY buffers: `direct` rows are certainly new to the campaign and go
 * straight into `campaign_messages`; `checked` rows may repeat a number (the importer's filter said
 * "maybe") and go through the database's exact check. Both share the chunk's ids and seq numbers.
 */
export class CopyChunk {
  readonly direct = new CopyBuffer(CHUNK_LIMITS.bytes + ROW_ROOM);
  /** Usually a few percent of the rows: grows when needed. */
  readonly checked = new CopyBuffer(ROW_ROOM);
  /** seq of the chunk's first row; seqEnd: one past its last. */
  seqBase = 0;
  seqEnd = 0;
  /** seq of the rows whose text is UCS-2, and how many of them are direct. */
  readonly ucs2Seqs: number[] = [];
  directUcs2 = 0;
  /** Characters that forced UCS-2 in this chunk's texts. */
  readonly nonGsm = new Set<string>();
  /** The first 28 characters of this chunk's UUIDv7 (all but the last 32 bits). */
  private idPrefix = newIdPrefix();

  constructor(private readonly campaignId: string) {}

  get rows(): number {
    return this.seqEnd - this.seqBase;
  }

  add(message: NewMessage, checked: boolean, nonGsm: readonly string[]): void {
    const seq = this.seqEnd++;
    const id = this.idPrefix + (seq - this.seqBase).toString(16).padStart(8, '0');
    const variables = message.variables === null ? '\\N' : copyText(JSON.stringify(message.variables));
    (checked ? this.checked : this.direct).append(`${this.campaignId}\t${seq}\t${id}\t${message.phone}\t${variables}\t${message.segments}\n`);
    if (message.ucs2) {
      this.ucs2Seqs.push(seq);
      if (!checked) this.directUcs2++;
    }
    for (const ch of nonGsm) this.nonGsm.add(ch);
  }

  get full(): boolean {
    return this.rows >= CHUNK_LIMITS.rows || this.direct.length + this.checked.length >= CHUNK_LIMITS.bytes;
  }

  /** Empties the chunk for rows from `seqBase` on. */
  reset(seqBase: number): void {
    this.seqBase = seqBase;
    this.seqEnd = seqBase;
    this.direct.clear();
    this.checked.clear();
    this.directUcs2 = 0;
    this.ucs2Seqs.length = 0;
    this.nonGsm.clear();
    this.idPrefix = newIdPrefix();
  }
}

/** COPY text rows in one Buffer, reused from chunk to chunk (untouched pages cost no memory). */
export class CopyBuffer {
  private buffer: Buffer;
  private used = 0;
  rows = 0;

  constructor(bytes: number) {
    this.buffer = Buffer.allocUnsafe(bytes);
  }

  get length(): number {
    return this.used;
  }

  /** The encoded rows; valid until the next clear(). */
  get bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }

  append(text: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    const worst = text.length * 3;
    if (this.used + worst > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + worst));
      this.buffer.copy(bigger, 0, 0, this.used);
      this.buffer = bigger;
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
    this.rows++;
  }

  clear(): void {
    this.used = 0;
    this.rows = 0;
  }
}

function newIdPrefix(): string {
  return uuidv7().slice(0, 28);
}

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value as a field of COPY's text format: backslash, tab, newline and carriage return escaped. */
export function copyText(value: string): string {
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]) : value;
}
