/** COPY's text format of a batch's rows, in pieces: the same bytes as the rows written one line each. */
import { copyText } from './copy-rows';

/** The format written the plain way: every value escaped, tab between values, newline after each row. */
const expected = (rows: ReadonlyArray<readonly unknown[]>) =>
  rows
    .map((row) =>
      row
        .map((v) => (v === null || v === undefined ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')))
        .join('\t'),
    )
    .join('\n') + '\n';

describe('copyText', () => {
  it('escapes backslash, tab, newline and carriage return, writes null as \\N, and ends every row with a newline', () => {
    const rows = [
      ['a\tb', 'c\nd\re', 'back\\slash', null, undefined, 42, true],
      ['\\N', '', 'caf\u00e9 \u8b66\u544a \ud83d\udd25', '{"x":"y\\"z"}', 0, false, 'end'],
    ];
    expect(Buffer.concat(copyText(rows)).toString('utf8')).toBe(expected(rows));
  });

  it('cuts a large batch into pieces of whole rows, multi-byte characters intact, losing no row', () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => [`event-${i}`, `caf\u00e9 ${'\ud83d\udd25'.repeat(i % 7)}\t${i}`, i % 3 === 0 ? null : 'x'.repeat(i % 50)]);
    const pieces = copyText(rows);
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(piece[piece.length - 1]).toBe(0x0a);
    expect(Buffer.concat(pieces).toString('utf8')).toBe(expected(rows));
  });

  it('gives nothing for no rows', () => {
    expect(copyText([])).toEqual([]);
  });
});
