import { sourceTime } from './time';

describe('sourceTime', () => {
  test.each([
    ['2020-02-06T00:17:58.432911368Z', '2020-02-06T00:17:58.432Z'],
    ['2018-03-07T06:33:21.873077559-05:00', '2018-03-07T11:33:21.873Z'],
    ['2022-07-29T11:13:27.3Z', '2022-07-29T11:13:27.300Z'],
  ])('%s is a real time', (value, iso) => {
    expect(sourceTime(value)).toEqual({ original: value, iso });
  });

  test.each([
    ['Go zero time', '0001-01-01T00:00:00Z'],
    ['no time zone (ambiguous)', '2020-01-01T00:00:00'],
    ['not a date', 'yesterday'],
    ['impossible date', '2019-02-30T00:00:00Z'],
    ['not a string', 1700000000],
    ['absent', undefined],
  ])('%s is no time', (_what, value) => {
    expect(sourceTime(value)).toBeUndefined();
  });
});
