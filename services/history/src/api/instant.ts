/**
 * The date-times the API takes: RFC 3339 with a full offset (`Z` or `+01:00`), as `Date.parse` reads every one of
 * them, years 0001–9999. ajv-formats' `date-time` also takes `+01` and a leap second `23:59:60`, which `Date.parse`
 * does not read (NaN, then a 500 where the value was used), and year 0000, which Postgres refuses.
 */
const RFC3339 = /^(\d{4})-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export function isInstant(text: string): boolean {
  const m = RFC3339.exec(text);
  return m !== null && Number(m[1]) >= 1 && Number.isFinite(Date.parse(text));
}

/** The `date-time` format of the API's schemas (fastify's ajv, after ajv-formats). */
export const INSTANT_FORMAT = { type: 'string' as const, validate: isInstant };
