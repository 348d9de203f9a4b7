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
  const rowsOf = (bytes: Buffer) =>
    bytes.toString('utf8').split('\n').filter((l) => l.length > 0).map((l) => l.split('\t').map(decodeField));

  it('encodes rows as campaign_id, seq, id, phone, variables, segments; direct and checked rows apart', () => {
    const chunk = new CopyChunk(campaign);
    chunk.reset(100);
    chunk.add({ phone: '+41791234567', variables: { name: 'Ann\tLee', note: 'a\\b' }, segments: 1, ucs2: false }, false, []);
    chunk.add({ phone: '+41791234568', variables: null, segments: 2, ucs2: true }, true, ['ő']);
    chunk.add({ phone: '+41791234569', variables: null, segments: 2, ucs2: true }, false, ['ő']);
    const direct = rowsOf(chunk.direct.bytes);
    const checked = rowsOf(chunk.checked.bytes);
    expect(direct.map((r) => [r[0], r[1], r[3], r[4], r[5]])).toEqual([
      [campaign, '100', '+41791234567', JSON.stringify({ name: 'Ann\tLee', note: 'a\\b' }), '1'],
      [campaign, '102', '+41791234569', null, '2'],
    ]);
    expect(checked.map((r) => [r[1], r[3]])).toEqual([['101', '+41791234568']]);
    expect([chunk.rows, chunk.direct.rows, chunk.checked.rows, chunk.seqEnd]).toEqual([3, 2, 1, 103]);
    // One UUIDv7 per chunk with the row position in its last 32 bits: ordered and distinct.
    expect(direct[0][2]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{4}00000000$/);
    expect(checked[0][2]).toBe(`${direct[0][2]!.slice(0, 28)}00000001`);
    expect(direct[1][2]).toBe(`${direct[0][2]!.slice(0, 28)}00000002`);
    expect([chunk.ucs2Seqs, chunk.directUcs2]).toEqual([[101, 102], 1]);
    expect([...chunk.nonGsm]).toEqual(['ő']);
  });

  it('is full at the row limit, and starts over (new ids) after reset', () => {
    const chunk = new CopyChunk(campaign);
    chunk.reset(0);
    for (let i = 0; i < CHUNK_LIMITS.rows; i++) {
      expect(chunk.full).toBe(false);
      chunk.add({ phone: `+4179${String(i).padStart(7, '0')}`, variables: null, segments: 1, ucs2: false }, false, []);
    }
    expect(chunk.full).toBe(true);
    const firstId = rowsOf(chunk.direct.bytes)[0][2]!;
    chunk.reset(chunk.seqEnd);
    expect([chunk.rows, chunk.direct.length, chunk.checked.length]).toEqual([0, 0, 0]);
    chunk.add({ phone: '+41790000000', variables: null, segments: 1, ucs2: false }, false, []);
    const [[, seq, id]] = rowsOf(chunk.direct.bytes);
    expect(seq).toBe(String(CHUNK_LIMITS.rows));
    expect(id! > firstId).toBe(true);
  });

  it('is full at the byte limit too, and grows a buffer for an oversized row', () => {
    const chunk = new CopyChunk(campaign);
    chunk.reset(0);
    const big = { v: 'x'.repeat(1000) };
    while (!chunk.full) chunk.add({ phone: '+41791234567', variables: big, segments: 7, ucs2: false }, true, []);
    expect(chunk.checked.length).toBeGreaterThanOrEqual(CHUNK_LIMITS.bytes);
    expect(rowsOf(chunk.checked.bytes)).toHaveLength(chunk.rows);
  });
});
