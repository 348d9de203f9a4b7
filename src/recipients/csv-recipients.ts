import { parse } from 'csv-parse';
import type { RawRecipient } from './recipient-row.js';

export class CsvFormatError extends Error {}

export type CsvRow = RawRecipient | { row: number; error: string };

/**
 * Streams recipients out of a CSV body: a header row with a `phone` column (any case) and one
 * column per variable. Rows are yielded as they are parsed; nothing is buffered beyond csv-parse's
 * own chunk. Row numbers are line numbers (the header is row 1).
 */
export async function* parseCsvRecipients(input: NodeJS.ReadableStream): AsyncGenerator<CsvRow> {
  const parser = parse({ bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, max_record_size: 64 * 1024 });
  (input as NodeJS.ReadableStream & { pipe: (d: NodeJS.WritableStream) => void }).pipe(parser);
  input.on('error', (e: Error) => parser.destroy(e));
  let header: string[] | undefined;
  let phoneIndex = -1;
  for await (const record of parser as AsyncIterable<string[]>) {
    const line = (parser.info as { lines: number }).lines;
    if (!header) {
      header = record.map((h) => h.trim());
      phoneIndex = header.findIndex((h) => h.toLowerCase() === 'phone');
      if (phoneIndex < 0) throw new CsvFormatError('The CSV header must have a "phone" column');
      continue;
    }
    if (record.length !== header.length) {
      yield { row: line, error: `COLUMN_COUNT: expected ${header.length} columns, got ${record.length}` };
      continue;
    }
    let variables: Record<string, string> | undefined;
    for (let i = 0; i < header.length; i++) {
      if (i === phoneIndex || header[i] === '') continue;
      (variables ??= {})[header[i]] = record[i];
    }
    yield { row: line, phone: record[phoneIndex], variables };
  }
  if (!header) throw new CsvFormatError('The CSV body is empty (a header row with a "phone" column is required)');
}
