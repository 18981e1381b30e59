import { hasZone, parseInstant } from './support';

test('a time on the command line must say its zone (alertbus replay): read in the machine\'s, it picked another window per laptop', () => {
  expect(parseInstant('--from', '2025-03-01T10:00:00Z')).toBe(Date.parse('2025-03-01T10:00:00Z'));
  expect(parseInstant('--from', '2025-03-01T05:00:00-05:00')).toBe(Date.parse('2025-03-01T10:00:00Z'));
  expect(parseInstant('--to', '2025-03-02')).toBe(Date.parse('2025-03-02T00:00:00Z'));
  expect(() => parseInstant('--from', '2025-03-01T10:00:00')).toThrow('--from must say its zone, as 2025-03-01T10:00:00Z (UTC) or +01:00, got "2025-03-01T10:00:00"');
  expect(() => parseInstant('--from', '2025-03-01 08:00')).toThrow(/must say its zone/);
  expect(() => parseInstant('--from', 'yesterday')).toThrow(/must be an ISO 8601 time/);
  expect(['2025-03-01T10:00Z', '2025-03-01T10:00:00.123+0100', '2025-03-01 10:00:00z'].every(hasZone)).toBe(true);
});
