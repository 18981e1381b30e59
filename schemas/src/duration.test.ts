import { formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each<[string, number | null]>([
    ['500ms', 500],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['4h', 4 * 3_600_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1y', 365 * 86_400_000],
    ['1m30s500ms', 90_500],
    ['0s', 0],
    ['0m', 0],
    ['', null],
    ['2', null],
    ['h', null],
    ['-1h', null],
    ['1.5h', null],
    ['2 hours', null],
    ['4 hours', null],
    ['1H', null],
    [' 1h', null],
    ['99999999999999999y', null],
  ])('%j → %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
});

describe('formatDuration', () => {
  it.each<[number, string]>([
    [2_592_000_000, '30d'],
    [86_400_000_000, '1000d'],
    [86_400_000, '1d'],
    [5_400_000, '1h30m'],
    [90_500, '1m30s500ms'],
    [1_000, '1s'],
    [0, '0s'],
    [-5, '0s'],
    [1_499.6, '1s500ms'],
  ])('%d ms is written %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it.each([1, 999, 60_000, 3_723_004, 604_800_000, 31_536_000_000])('%d ms reads back the same', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
