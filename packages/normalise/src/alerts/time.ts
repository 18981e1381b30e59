import { schemaAjv } from '@alertbus/schemas';

const isDateTime = schemaAjv.compile({ type: 'string', format: 'date-time' });

export interface SourceTime {
  /** The value as the source wrote it (valid RFC 3339, kept for fidelity). */
  original: string;
  /** The same instant as UTC ISO-8601 with milliseconds, comparable as a string. */
  iso: string;
}

/**
 * A source timestamp when it is a real, set time: Alertmanager and Grafana send Go's zero time
 * (year 0001) for "not set", and some senders send local times without a zone, which would be ambiguous.
 */
export function sourceTime(value: unknown): SourceTime | undefined {
  if (typeof value !== 'string' || !isDateTime(value)) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  if (date.getUTCFullYear() <= 1) return undefined;
  return { original: value, iso: date.toISOString() };
}
