import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CHUNK_LIMITS, CopyChunk, copyText } from './copy-chunk.js';

/** COPY text format's field decoding (the escapes copyText produces). */
function decodeField(field: string): string | null {
  if (field === '\\N') return null;
  return field.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' })[c] ?? c);
}

describe('copyText', () => {
  it('escapes backslash, tab, newline and carriage return, and nothing else', () => {
    expect(copyText('plain ő 😀')).toBe('plain ő 😀');
    expect(copyText('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
  });

  it('round-trips any string as one field', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        const field = copyText(value);
        expect(field).not.toMatch(/[\t\n\r]/);
        expect(decodeField(field)).toBe(value);
      }),
    );
  });
});

describe('CopyChunk', () => {
  const campaign = '0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000';

  it('encodes rows as campaign_id, seq, id, phone, variables, segments', () => {
    const chunk = new CopyChunk(campaign, 16);
    chunk.reset(100);
    chunk.add({ phone: '+41791234567', variables: { name: 'Ann\tLee', note: 'a\\b' }, segments: 1, ucs2: false }, []);
    chunk.add({ phone: '+41791234568', variables: null, segments: 2, ucs2: true }, ['ő']);
    const lines = chunk.bytes.toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    const rows = lines.map((l) => l.split('\t').map(decodeField));
    expect(rows[0][0]).toBe(campaign);
    expect(rows.map((r) => [r[1], r[3], r[4], r[5]])).toEqual([
      ['100', '+41791234567', JSON.stringify({ name: 'Ann\tLee', note: 'a\\b' }), '1'],
      ['101', '+41791234568', null, '2'],
    ]);
    // UUIDv7 of the chunk with the row position in its last 32 bits: ordered and distinct.
    expect(rows[0][2]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{4}00000000$/);
    expect(rows[1][2]).toBe(`${rows[0][2]!.slice(0, 28)}00000001`);
    expect(chunk.ucs2Seqs).toEqual([101]);
    expect([...chunk.nonGsm]).toEqual(['ő']);
  });

  it('is full at the row limit, and starts over (new ids) after reset', () => {
    const chunk = new CopyChunk(campaign);
    chunk.reset(0);
    for (let i = 0; i < CHUNK_LIMITS.rows; i++) {
      expect(chunk.full).toBe(false);
      chunk.add({ phone: `+4179${String(i).padStart(7, '0')}`, variables: null, segments: 1, ucs2: false }, []);
    }
    expect(chunk.full).toBe(true);
    const firstId = chunk.bytes.toString('utf8').split('\t')[2];
    chunk.reset(CHUNK_LIMITS.rows);
    expect(chunk.rows).toBe(0);
    expect(chunk.bytes.length).toBe(0);
    chunk.add({ phone: '+41790000000', variables: null, segments: 1, ucs2: false }, []);
    const [, seq, id] = chunk.bytes.toString('utf8').split('\t');
    expect(seq).toBe(String(CHUNK_LIMITS.rows));
    expect(id > firstId).toBe(true);
  });
});
