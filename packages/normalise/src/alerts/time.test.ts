import { sourceTime } from './time';

describe('sourceTime', () => {
  test.each([
    ['2020-02-06T00:17:58.432911368Z', '2020-02-06T00:17:58.432Z'],
    ['2018-03-07T06:33:21.873077559-05:00', '2018-03-07T11:33:21.873Z'],
    ['2022-07-29T11:13:27.3Z', '2022-07-29T11:13:27.300Z'],
    ['9999-12-31T22:59:59-01:00', '9999-12-31T23:59:59.000Z'],
  ])('%s is a real time', (value, iso) => {
    expect(sourceTime(value)).toEqual({ original: value, iso });
  });

  test.each([
    ['Go zero time', '0001-01-01T00:00:00Z'],
    ['no time zone (ambiguous)', '2020-01-01T00:00:00'],
    ['not a date', 'yesterday'],
    ['impossible date', '2019-02-30T00:00:00Z'],
    // Valid RFC 3339, but year 10000 in UTC: no ISO date-time of an event can carry it.
    ['past year 9999 in UTC', '9999-12-31T23:59:59-01:00'],
    ['not a string', 1700000000],
    ['absent', undefined],
  ])('%s is no time', (_what, value) => {
    expect(sourceTime(value)).toBeUndefined();
  });
});

describe('sourceTime of the form Alertmanager and Grafana send (read without a Date)', () => {
  /** What the general path answers: the instant through Date, undefined for year 1 or before. */
  const throughDate = (value: string) => {
    const date = new Date(Date.parse(value));
    return date.getUTCFullYear() <= 1 ? undefined : { original: value, iso: date.toISOString() };
  };
  const fractions = ['', '.0', '.3', '.43', '.432', '.4329', '.432911368', '.999999999'];
  const days = ['2026-11-22T08:00:00', '2024-02-29T23:59:59', '1970-01-01T00:00:00', '0002-01-01T00:00:00', '9999-12-31T23:59:59', '0001-01-01T00:00:00', '0000-03-01T12:00:00'];

  test.each(days.flatMap((d) => fractions.map((f) => `${d}${f}Z`)))('%s', (value) => {
    expect(sourceTime(value)).toEqual(throughDate(value));
  });

  test.each(['2026-11-22t08:00:00Z', '2026-11-22 08:00:00Z', '2026-11-22T08:00:00z'])('%s (another RFC 3339 spelling) takes the general path', (value) => {
    expect(sourceTime(value)).toEqual(throughDate(value));
  });

  test.each(['2026-11-22T08:00:00.Z', '2023-02-29T00:00:00Z', '2026-11-22T24:00:00Z', '2026-11-22T08:00:60Z', '2026-13-01T00:00:00Z'])('%s is no time', (value) => {
    expect(sourceTime(value)).toBeUndefined();
  });
});
