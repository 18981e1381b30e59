import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { plainlyValidDateTime, quickDateTime } from './date-time';
import { validateEnvelope } from './validate';

const reference = new Ajv();
addFormats(reference);
const full = (reference.formats['date-time'] as { validate: (s: string) => boolean }).validate;
const quick = quickDateTime(full);

/** A small deterministic generator, so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const CASES = [
  '2026-11-30T12:00:00Z',
  '2026-11-30T12:00:00.123Z',
  '2026-11-30t12:00:00.123456789z',
  '2026-11-30 12:00:00+01:00',
  '2026-11-30T23:59:59-23:59',
  '2024-02-29T00:00:00Z',
  '2023-02-29T00:00:00Z',
  '1900-02-29T00:00:00Z',
  '2000-02-29T00:00:00Z',
  '0001-01-01T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-00-01T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2026-11-30T24:00:00Z',
  '2026-11-30T12:60:00Z',
  '2026-11-30T12:00:60Z',
  '2016-12-31T23:59:60Z',
  '2016-12-31T23:59:60.5Z',
  '2016-12-31T22:59:60-01:00',
  '2026-11-30T12:00:00',
  '2026-11-30T12:00:00.Z',
  '2026-11-30T12:00:00+0100',
  '2026-11-30T12:00:00+01',
  '2026-11-30T12:00:00+24:00',
  '2026-11-30T12:00:00+01:60',
  '2026-11-30\t12:00:00Z',
  '2026-11-30\u00a012:00:00Z',
  '2026-11-30TT12:00:00Z',
  '2026-11-30T12:00:00Zx',
  '2026-11-30T12:00:00Z\n',
  '２０２６-11-30T12:00:00Z',
  '2026-11-30',
  '',
];

it('answers as ajv-formats does for the usual form and its edges', () => {
  for (const s of CASES) expect([s, quick(s)]).toEqual([s, full(s)]);
});

it('answers as ajv-formats does for generated near-misses', () => {
  const r = rng(11);
  const differ: string[] = [];
  let valid = 0;
  const alphabet = '0123456789-:T tZz+.x';
  for (let n = 0; n < 20_000; n++) {
    const base = [...'2026-11-30T12:34:56.789+05:30'];
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * base.length);
      const op = r();
      if (op < 0.6) base[at] = alphabet[Math.floor(r() * alphabet.length)]!;
      else if (op < 0.8) base.splice(at, 1);
      else base.splice(at, 0, alphabet[Math.floor(r() * alphabet.length)]!);
    }
    const s = base.join('');
    if (quick(s) !== full(s)) differ.push(s);
    if (full(s)) valid++;
  }
  expect(differ).toEqual([]);
  expect(valid).toBeGreaterThan(1000); // the near-misses include valid ones too
});

it('decides "valid" only where ajv-formats does, so a "no" always goes to the full check', () => {
  expect(plainlyValidDateTime('2016-12-31T23:59:60Z')).toBe(false);
  expect(quick('2016-12-31T23:59:60Z')).toBe(true);
});

it('is the date-time the envelope schema is checked with', () => {
  const event = {
    id: 'e1',
    type: 'AlertReceived',
    version: 1,
    alias: 'a',
    occurredAt: '2026-02-30T00:00:00Z',
    recordedAt: '2026-11-30T12:00:00.000Z',
    source: 'ingest/generic',
    causationId: null,
    correlationId: 'e1',
    data: {},
  };
  const check = validateEnvelope(event);
  expect(check.ok).toBe(false);
  expect(!check.ok && check.error).toMatch(/occurredAt.*date-time/);
});
