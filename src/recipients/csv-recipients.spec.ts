import { describe, expect, it } from '@jest/globals';
import { PassThrough, Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CsvFormatError, detectDelimiter, parseCsvRecipients, type CsvRow } from './csv-recipients.js';

/** The parser's batches, one row at a time. */
async function* rowsOf(...args: Parameters<typeof parseCsvRecipients>): AsyncGenerator<CsvRow> {
  for await (const batch of parseCsvRecipients(...args)) {
    expect(batch.length).toBeGreaterThan(0);
    yield* batch;
  }
}

async function collect(input: string | Buffer | Array<string | Buffer>, options?: Parameters<typeof parseCsvRecipients>[1]): Promise<CsvRow[]> {
  const chunks = Array.isArray(input) ? input : [input];
  const rows: CsvRow[] = [];
  for await (const row of rowsOf(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))), options)) rows.push(row);
  return rows;
}

async function collect2(input: NodeJS.ReadableStream): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const row of rowsOf(input)) rows.push(row);
  return rows;
}

/** A real collection before each heap reading (jest exposes no gc()). */
function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

describe('parseCsvRecipients', () => {
  it('reads a phone column and turns every other column into a variable', async () => {
    expect(await collect('phone,name,city\n+41791234567,Anna,Zürich\n079 123 45 68,Beat,Bern\n')).toEqual([
      { row: 2, phone: '+41791234567', variables: { name: 'Anna', city: 'Zürich' } },
      { row: 3, phone: '079 123 45 68', variables: { name: 'Beat', city: 'Bern' } },
    ]);
  });

  it('matches the phone header case-insensitively, trims headers and values, ignores unnamed columns', async () => {
    expect(await collect(' Name ,  PHONE ,,city\n Anna , 079 123 45 67 ,x, Bern \r\n')).toEqual([
      { row: 2, phone: '079 123 45 67', variables: { Name: 'Anna', city: 'Bern' } },
    ]);
  });

  it('works without variable columns', async () => {
    expect(await collect('phone\n0791234567\n0791234568')).toEqual([
      { row: 2, phone: '0791234567', variables: {} },
      { row: 3, phone: '0791234568', variables: {} },
    ]);
  });

  it('tolerates a BOM, CRLF, blank lines and rows of empty cells', async () => {
    expect(await collect('\ufeffphone,name\r\n\r\n+41791234567,Anna\r\n,\r\n \r\n\r\n+41791234568,Beat\r\n\r\n')).toEqual([
      { row: 2, phone: '+41791234567', variables: { name: 'Anna' } },
      { row: 5, phone: '+41791234568', variables: { name: 'Beat' } },
    ]);
  });

  it('handles quoted cells with delimiters, quotes and line breaks', async () => {
    expect(await collect('phone,text\n"+41 79 123 45 67","Hello, ""you""\nsecond line"\n+41791234568,He said "hi"\n')).toEqual([
      { row: 2, phone: '+41 79 123 45 67', variables: { text: 'Hello, "you"\nsecond line' } },
      { row: 3, phone: '+41791234568', variables: { text: 'He said "hi"' } },
    ]);
  });

  it('detects ; and tab delimiters from the header row, or takes the given one', async () => {
    expect(await collect('phone;name;note\n+41791234567;Anna;a, b\n')).toEqual([
      { row: 2, phone: '+41791234567', variables: { name: 'Anna', note: 'a, b' } },
    ]);
    expect(await collect('phone\tname\n+41791234567\tAnna\n')).toEqual([{ row: 2, phone: '+41791234567', variables: { name: 'Anna' } }]);
    expect(await collect('phone;a,b\n+41791234567;x,y\n', { delimiter: ';' })).toEqual([{ row: 2, phone: '+41791234567', variables: { 'a,b': 'x,y' } }]);
    expect(detectDelimiter(Buffer.from('"a;b;c",phone,d\n;;;;;;'))).toBe(',');
    expect(detectDelimiter(Buffer.from('phone'))).toBe(',');
  });

  it('reports rows with a different number of cells and goes on', async () => {
    expect(await collect('phone,name\n+41791234567,Anna,extra\n+41791234568\n+41791234569,Carla\n')).toEqual([
      { row: 2, error: 'COLUMN_COUNT: expected 2 columns, found 3' },
      { row: 3, error: 'COLUMN_COUNT: expected 2 columns, found 1' },
      { row: 4, phone: '+41791234569', variables: { name: 'Carla' } },
    ]);
  });

  it('decodes UTF-8 split across chunks', async () => {
    const bytes = Buffer.from('phone,city\n+41791234567,Zürich 😀\n');
    const oneByteChunks = Array.from(bytes, (b) => Buffer.from([b]));
    expect(await collect(oneByteChunks)).toEqual([{ row: 2, phone: '+41791234567', variables: { city: 'Zürich 😀' } }]);
  });

  it.each([
    ['', /empty/],
    ['\n\n', /empty/],
    ['name,city\nAnna,Bern\n', /must have a "phone" column \(found "name", "city"\)/],
    ['phone,Phone\n1,2\n', /more than one "phone" column/],
    ['phone,name,name\n1,2,3\n', /"name" appears more than once/],
    ['phone,__proto__\n1,2\n', /not allowed/],
    [`phone,${'x'.repeat(65)}\n1,2\n`, /longer than 64/],
    [`phone,${Array.from({ length: 51 }, (_, i) => `v${i}`).join(',')}\n`, /51 variable columns; at most 50/],
    ['phone,name\n+41791234567,"Anna\n+41791234568,Beat\n', /Malformed CSV/],
  ])('refuses a malformed file: %j', async (csv, message) => {
    const error = await collect(csv).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CsvFormatError);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a record larger than the limit (e.g. an unclosed quote swallowing the file)', async () => {
    const csv = 'phone,text\n+41791234567,"' + 'x'.repeat(5000) + '\n';
    await expect(collect(csv, { maxRecordSize: 1000 })).rejects.toBeInstanceOf(CsvFormatError);
  });

  it('rethrows errors of the input stream unchanged', async () => {
    const boom = new Error('socket hang up');
    async function* source() {
      yield Buffer.from('phone,name\n+41791234567,Anna\n');
      throw boom;
    }
    await expect(collect2(Readable.from(source()))).rejects.toBe(boom);
  });

  it('rethrows an error of the input stream raised while the header is read', async () => {
    const input = new PassThrough();
    const iterator = rowsOf(input)[Symbol.asyncIterator]();
    const next = iterator.next();
    input.destroy(new Error('aborted'));
    await expect(next).rejects.toThrow('aborted');
  });

  it('streams: rows come out while the input is still being produced, in constant memory', async () => {
    const total = 200_000;
    let produced = 0; // rows written by the source so far
    async function* source() {
      yield Buffer.from('phone,name,city\n');
      const batch = 500;
      for (let i = 0; i < total; i += batch) {
        let chunk = '';
        for (let j = i; j < i + batch; j++) chunk += `+4179${String(1000000 + j)},Name ${j},City ${j % 100}\n`;
        produced = i + batch;
        yield Buffer.from(chunk);
      }
    }
    let count = 0;
    let maxLag = 0; // how far the source ran ahead of the consumer
    let rowNumbers = true;
    const heapBefore = heapAfterGc();
    let heapGrowth = 0;
    for await (const row of rowsOf(Readable.from(source()))) {
      count++;
      if ('error' in row) throw new Error(row.error);
      if (row.row !== count + 1) rowNumbers = false;
      maxLag = Math.max(maxLag, produced - count);
      if (count % 50_000 === 0) heapGrowth = Math.max(heapGrowth, heapAfterGc() - heapBefore);
    }
    expect(count).toBe(total);
    expect(rowNumbers).toBe(true);
    // Never more than a few chunks of read-ahead (a chunk is 500 rows, ~20 kB).
    expect(maxLag).toBeLessThan(20_000);
    // The input is ~8 MB of text, ~40 MB once parsed into records: memory must not grow with it.
    expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);

  it('releases the input when the consumer stops early', async () => {
    const input = new PassThrough();
    input.write('phone\n');
    for (let i = 0; i < 100; i++) input.write(`+4179${1000000 + i}\n`);
    for await (const row of rowsOf(input)) {
      expect(row).toEqual({ row: 2, phone: '+41791000000', variables: {} });
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(input.destroyed).toBe(true);
  });
});
