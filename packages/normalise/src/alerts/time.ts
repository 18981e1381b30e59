import { plainlyValidDateTime, schemaAjv } from '@alertbus/schemas';

const isDateTime = schemaAjv.compile({ type: 'string', format: 'date-time' });

export interface SourceTime {
  /** The value as the source wrote it (valid RFC 3339, kept for fidelity). */
  original: string;
  /** The same instant as UTC ISO-8601 with milliseconds, comparable as a string. */
  iso: string;
}

/**
 * The form Alertmanager and Grafana send, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, valid, is already UTC: its iso is read off
 * it (the fraction cut or padded to milliseconds, as Date.parse reads it) with no Date made, parsed and formatted, twice
 * an alert. Returns '' for one of year 1 or before (Go's zero time), null for any other form (the general path decides).
 */
function plainUtcIso(s: string): string | null {
  const n = s.length;
  if (n < 20 || s.charCodeAt(10) !== 84 || s.charCodeAt(n - 1) !== 90 || (n > 20 && s.charCodeAt(19) !== 46) || !plainlyValidDateTime(s)) return null;
  if (Number(s.slice(0, 4)) <= 1) return '';
  const millis = n === 20 ? '000' : n >= 24 ? s.slice(20, 23) : s.slice(20, n - 1).padEnd(3, '0');
  return `${s.slice(0, 19)}.${millis}Z`;
}

/**
 * A source timestamp when it is a real, set time: Alertmanager and Grafana send Go's zero time
 * (year 0001) for "not set", and some senders send local times without a zone, which would be ambiguous.
 */
export function sourceTime(value: unknown): SourceTime | undefined {
  if (typeof value !== 'string') return undefined;
  const utc = plainUtcIso(value);
  if (utc !== null) return utc === '' ? undefined : { original: value, iso: utc };
  if (!isDateTime(value)) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  // Past year 9999 in UTC (`9999-12-31T23:59:59-01:00` is valid RFC 3339 yet falls in 10000) the ISO form is
  // `+010000-…`, which no event's date-time takes: the whole request was refused for a field it never sent.
  const year = date.getUTCFullYear();
  if (year <= 1 || year > 9999) return undefined;
  return { original: value, iso: date.toISOString() };
}
