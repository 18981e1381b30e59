/**
 * The date-times the API takes: RFC 3339 with a full offset (`Z` or `+01:00`), as `Date.parse` reads every one of
 * them, years 0001–9999. ajv-formats' `date-time` also takes `+01` and a leap second `23:59:60`, which `Date.parse`
 * does not read (NaN, then a 500 where the value was used), and year 0000, which Postgres refuses. A day the month does
 * not have (`2026-02-30`) is refused too: Date.parse rolls it over into the next month, silently moving a window.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export function isInstant(text: string): boolean {
  const m = RFC3339.exec(text);
  if (m === null || Number(m[1]) < 1 || !Number.isFinite(Date.parse(text))) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth;
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** The `date-time` format of the API's schemas (fastify's ajv, after ajv-formats). */
export const INSTANT_FORMAT = { type: 'string' as const, validate: isInstant };

/**
 * An instant's microseconds since the epoch, as Postgres keeps a timestamptz (its digits past the sixth are dropped):
 * `Date.parse` stops at milliseconds, so two instants within one millisecond compared equal.
 */
export function instantMicros(text: string): bigint {
  const digits = (/:\d{2}\.(\d+)/.exec(text)?.[1] ?? '').padEnd(6, '0');
  return BigInt(Date.parse(text)) * 1000n + BigInt(digits.slice(3, 6));
}
