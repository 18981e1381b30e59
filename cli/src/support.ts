/** What the `alertbus` commands over history share: where Kafka, Postgres and the API are, and how to print. */
import type { Kafka } from 'kafkajs';
import { ConfigError, createLogger, envBrokers, envDatabaseUrl, errorChain, isNetworkError } from '@alertbus/common';
import { createKafka } from '@alertbus/kafka';

export function cliKafka(brokers: string | undefined, env: Record<string, string | undefined> = process.env): Kafka {
  let list: string[];
  try {
    list = envBrokers(brokers === undefined ? env : { KAFKA_BROKERS: brokers });
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`${err.message} (set KAFKA_BROKERS or pass --brokers host:port)`);
    throw err;
  }
  return createKafka({ brokers: list, clientId: 'alertbus-cli', log: createLogger('alertbus-cli', 'silent') });
}

/**
 * A command's failure as the user reads it: one that reached neither Kafka nor Postgres names the setting that says
 * where they are. "connect ECONNREFUSED 127.0.0.1:5432" alone did not say which of the two, or what to change.
 */
export function explainFailure(err: unknown): string {
  const chain = errorChain(err);
  const message = String(chain[0]?.message ?? err);
  // A topic the broker does not have: another KAFKA_TOPIC_PREFIX than the installation's, or a broker never set up. The
  // broker answered; said to be an outage, the prefix was not looked at.
  if (chain.some((e) => (e as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION')) {
    const prefix = process.env.KAFKA_TOPIC_PREFIX ?? '';
    return `Kafka has no such topic (KAFKA_TOPIC_PREFIX is ${prefix ? JSON.stringify(prefix) : 'unset'}: is it this installation's, and has alertbus run against this broker?): ${message}`;
  }
  if (chain.some((e) => typeof e.name === 'string' && e.name.startsWith('KafkaJS'))) {
    return `Kafka did not answer (KAFKA_BROKERS or --brokers; is the broker running?): ${message}`;
  }
  const pg = chain.find((e) => typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && 'severity' in e);
  if (pg && /^(08|28|3D)/.test(pg.code as string)) {
    return `Postgres refused the connection (DATABASE_URL or --database-url): ${message}`;
  }
  // What is left unwrapped is Postgres's: the history API's and ingest's clients name their own URL, Kafka's is wrapped.
  if ((isNetworkError(err) && message !== 'fetch failed') || /^Connection terminated|timeout expired/i.test(message)) {
    return `Postgres did not answer (DATABASE_URL or --database-url; is it running?): ${message}`;
  }
  return message;
}

export function cliDatabaseUrl(explicit: string | undefined, env: Record<string, string | undefined> = process.env): string {
  return explicit ?? envDatabaseUrl(env);
}

/**
 * Whether an ISO 8601 text names one instant wherever it is read: a date alone (UTC midnight, as Date reads it) or a
 * time with `Z` or an offset. A time without one is read in the machine's zone, so the same command picked another
 * window on a laptop in New York than on a server in UTC.
 */
export function hasZone(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) || /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})$/.test(value);
}

/**
 * Whether a time's date is a day of the calendar: Date.parse rolls a day the month does not have (`2026-11-31`) into
 * the next month, so the window read was another than the one asked for.
 */
export function isCalendarDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(2000, mo - 1, d));
  day.setUTCFullYear(y);
  return mo >= 1 && mo <= 12 && d >= 1 && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
}

/** An ISO 8601 instant from the command line, or a clear error naming the option. */
export function parseInstant(option: string, value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !isCalendarDay(value)) {
    throw new Error(`${option} must be an ISO 8601 time such as 2025-03-01T10:00:00Z, got "${value}"`);
  }
  if (!hasZone(value)) throw new Error(`${option} must say its zone, as 2025-03-01T10:00:00Z (UTC) or +01:00, got "${value}"`);
  return ms;
}

export interface Out {
  write(text: string): void;
}

export const stdout: Out = { write: (text) => void process.stdout.write(text) };
export const stderr: Out = { write: (text) => void process.stderr.write(text) };

export function printJson(out: Out, value: unknown): void {
  out.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}

/** A plain-text table: columns padded to their widest cell, the last one left unpadded. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
