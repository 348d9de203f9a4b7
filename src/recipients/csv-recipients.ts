/**
 * Streaming CSV recipient parser (csv-parse).
 *
 * Format: a header row with a `phone` column (matched case-insensitively after trimming) and any
 * number of further columns, each of which becomes a variable named after its trimmed header
 * (header cells left empty are ignored). The delimiter is detected from the header row (`,`, `;`
 * or tab — Excel writes `;` in many European locales) unless given. A UTF-8 BOM is tolerated,
 * blank lines and rows whose cells are all empty are skipped, values are trimmed.
 *
 * Rows are yielded in batches (the records csv-parse has ready, one input chunk's worth) while
 * the input is read: nothing beyond csv-parse's buffer and the header line is held in memory, so a
 * 1M-row upload streams in constant memory. Batches rather than single rows because a promise per
 * row (for-await over async generators) was a tenth of the import's time in Node.js.
 *
 * Row numbers are 1-based CSV record numbers with the header as row 1, so they match the line
 * numbers of files without blank lines or line breaks inside quoted cells. A row with a different
 * number of cells than the header is yielded as `{ row, error }` and parsing continues. Problems
 * with the file as a whole — no header, no `phone` column, duplicate or invalid column names,
 * malformed CSV such as an unclosed quote — throw CsvFormatError (possibly after earlier rows
 * have been yielded). Errors of the input stream itself are rethrown unchanged.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse, type Parser } from 'csv-parse';
import { RECIPIENT_VARIABLE_LIMITS } from './recipient-row.js';

export class CsvFormatError extends Error {
  override readonly name = 'CsvFormatError';
}

export interface CsvRecipientRow {
  row: number;
  phone: string;
  variables: Record<string, string>;
}

export interface CsvErrorRow {
  row: number;
  error: string;
}

export type CsvRow = CsvRecipientRow | CsvErrorRow;

export type CsvDelimiter = ',' | ';' | '\t';

export interface CsvRecipientsOptions {
  /** Default: detected from the header row. */
  delimiter?: CsvDelimiter;
  /** Largest accepted record (characters), beyond which the file is refused. Default 100,000. */
  maxRecordSize?: number;
}

/** At most this much is read ahead to find the end of the header row for delimiter detection. */
const HEADER_PEEK_BYTES = 64 * 1024;
const DEFAULT_MAX_RECORD_SIZE = 100_000;
/**
 * Input is handed to csv-parse in slices of this size (views, not copies): csv-parse turns a whole
 * slice into records at once, and a batch of a few hundred rows is short-lived garbage, where the
 * thousands of a 64 kB socket read survived young-generation collections and piled up in V8's old
 * space (peak heap +60 MB during a 200k-row import).
 */
const PARSE_SLICE_BYTES = 8 * 1024;
const BATCH_RECORDS = 256;

export async function* parseCsvRecipients(
  input: NodeJS.ReadableStream,
  options: CsvRecipientsOptions = {},
): AsyncGenerator<CsvRow[], void, undefined> {
  const iterator = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  let released = false;
  /**
   * Lets go of the input (also when the consumer stops early). Destroying it, rather than awaiting
   * its iterator's return(), also settles a read that is still waiting for data.
   */
  const release = () => {
    if (released) return;
    released = true;
    const stream = input as NodeJS.ReadableStream & { destroy?: () => void };
    if (typeof stream.destroy === 'function') stream.destroy();
    else void iterator.return?.()?.catch(() => undefined);
  };

  // Read up to the end of the first line to pick the delimiter; those chunks are replayed.
  const head: Buffer[] = [];
  let ended = false;
  try {
    let bytes = 0;
    while (bytes < HEADER_PEEK_BYTES) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = toBuffer(next.value);
      head.push(chunk);
      bytes += chunk.length;
      if (chunk.includes(0x0a) || chunk.includes(0x0d)) break;
    }
  } catch (error) {
    release();
    throw error;
  }
  const delimiter = options.delimiter ?? detectDelimiter(Buffer.concat(head));

  async function* replay(): AsyncGenerator<Buffer> {
    try {
      while (head.length > 0) yield head.shift() as Buffer;
      if (ended) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        const chunk = toBuffer(next.value);
        for (let at = 0; at < chunk.length; at += PARSE_SLICE_BYTES) yield chunk.subarray(at, at + PARSE_SLICE_BYTES);
      }
    } finally {
      release();
    }
  }

  const parser = parse({
    delimiter,
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE,
  });
  const piping = pipeline(Readable.from(replay()), parser);
  piping.catch(() => undefined); // the same error surfaces from iterating the parser

  let columns: Columns | undefined;
  // Record number, counted here: csv-parse's `info` option would cost a third of the parse time.
  // Every record reaches this loop (only blank lines are skipped by csv-parse), so it matches
  // csv-parse's own record count.
  let row = 0;
  try {
    for await (const records of recordBatches(parser)) {
      const batch: CsvRow[] = [];
      for (const record of records) {
        row++;
        if (columns === undefined) {
          columns = readHeader(record);
          continue;
        }
        if (isBlank(record)) continue;
        if (record.length !== columns.count) {
          batch.push({ row, error: `COLUMN_COUNT: expected ${columns.count} columns, found ${record.length}` });
          continue;
        }
        const variables: Record<string, string> = {};
        const { names, indexes } = columns;
        for (let i = 0; i < names.length; i++) variables[names[i]] = record[indexes[i]].trim();
        batch.push({ row, phone: record[columns.phone].trim(), variables });
      }
      if (batch.length > 0) yield batch;
    }
  } catch (error) {
    if (error instanceof CsvError) throw new CsvFormatError(`Malformed CSV: ${error.message}`, { cause: error });
    throw error;
  } finally {
    release();
    parser.destroy();
  }
  if (columns === undefined) throw new CsvFormatError('The CSV is empty: a header row with a "phone" column is required');
}

/**
 * Up to BATCH_RECORDS records a stream has ready, read synchronously; waits only when it has none.
 * Capped because each read() can make csv-parse transform the next buffered input, so an uncapped
 * drain produced batches of thousands of rows that outlived young-generation collections: V8 then
 * allocated such objects straight into old space (allocation-site pretenuring) and the heap grew to
 * ~200 MB of garbage between full collections during a 1M-row import.
 */
async function* recordBatches(parser: Parser): AsyncGenerator<string[][]> {
  for (;;) {
    const batch: string[][] = [];
    while (batch.length < BATCH_RECORDS) {
      const record = parser.read() as string[] | null;
      if (record === null) break;
      batch.push(record);
    }
    if (batch.length > 0) {
      yield batch;
      continue;
    }
    if (parser.errored) throw parser.errored;
    if (parser.readableEnded) return;
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        parser.off('readable', onReady).off('end', onReady).off('close', onReady).off('error', settle);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => settle();
      parser.on('readable', onReady).on('end', onReady).on('close', onReady).on('error', settle);
    });
  }
}

interface Columns {
  count: number;
  phone: number;
  /** Variable names and the column each is read from. */
  names: string[];
  indexes: number[];
}

function readHeader(record: string[]): Columns {
  const headers = record.map((h) => h.trim());
  const phoneColumns = headers.flatMap((h, i) => (h.toLowerCase() === 'phone' ? [i] : []));
  if (phoneColumns.length === 0) {
    const found = headers.filter((h) => h.length > 0).slice(0, 10).map((h) => `"${h.slice(0, 64)}"`).join(', ');
    throw new CsvFormatError(`The CSV header row must have a "phone" column (found ${found || 'no column names'})`);
  }
  if (phoneColumns.length > 1) throw new CsvFormatError('The CSV header row has more than one "phone" column');
  const names: string[] = [];
  const indexes: number[] = [];
  const seen = new Set<string>();
  headers.forEach((name, i) => {
    if (i === phoneColumns[0] || name.length === 0) return;
    if (name.length > RECIPIENT_VARIABLE_LIMITS.maxKeyLength) {
      throw new CsvFormatError(`Column name "${name.slice(0, 64)}…" is longer than ${RECIPIENT_VARIABLE_LIMITS.maxKeyLength} characters`);
    }
    if (name === '__proto__') throw new CsvFormatError('Column name "__proto__" is not allowed');
    if (seen.has(name)) throw new CsvFormatError(`Column "${name}" appears more than once in the CSV header row`);
    seen.add(name);
    names.push(name);
    indexes.push(i);
  });
  if (names.length > RECIPIENT_VARIABLE_LIMITS.maxVariables) {
    throw new CsvFormatError(`The CSV has ${names.length} variable columns; at most ${RECIPIENT_VARIABLE_LIMITS.maxVariables} are allowed`);
  }
  return { count: record.length, phone: phoneColumns[0], names, indexes };
}

function isBlank(record: string[]): boolean {
  for (const cell of record) if (cell.length > 0 && cell.trim().length > 0) return false;
  return true;
}

/** The most frequent of `,` `;` tab outside quotes in the first line (`,` when none or tied). */
export function detectDelimiter(head: Buffer): CsvDelimiter {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const byte of head) {
    if (byte === 0x22) quoted = !quoted;
    else if (quoted) continue;
    else if (byte === 0x0a || byte === 0x0d) break;
    else if (byte === 0x2c) counts[',']++;
    else if (byte === 0x3b) counts[';']++;
    else if (byte === 0x09) counts['\t']++;
  }
  let best: CsvDelimiter = ',';
  for (const d of [';', '\t'] as const) if (counts[d] > counts[best]) best = d;
  return best;
}

function toBuffer(chunk: Buffer | string | Uint8Array): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
