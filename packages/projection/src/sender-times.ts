/**
 * When the sender says an incident started and ended (Alertmanager's and Grafana's startsAt / endsAt), kept only where
 * it can be right: alertbus's own times (opened_at, resolved_at) are when it heard, late by group_wait, retries or an
 * outage of its own, and the durations the history reports are measured from the sender's times when it has them.
 * Pure, and the same rules as migration 012 applies to the rows projected before it.
 */

/** A sender's clock ahead of ours by up to this much is taken as ours: its startsAt or endsAt becomes our time. */
export const SENDER_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * A startsAt further back than this before the incident opened is not used: an alert that fired that long before
 * alertbus heard of it (a first install meeting long-firing alerts, a sender's broken clock) would make every
 * duration it is part of mean nothing.
 */
export const MAX_SENDER_LEAD_MS = 7 * 86_400_000;

const instant = (text: string | undefined): number | undefined => {
  const ms = text === undefined ? NaN : Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * started_at from IncidentOpened/IncidentReopened: the sender's startsAt when it is at most MAX_SENDER_LEAD_MS before
 * openedAt; openedAt itself when startsAt is after it by at most the skew; else null (none given, or not believable).
 */
export function senderStart(startsAt: string | undefined, openedAt: string): string | null {
  const start = instant(startsAt);
  const opened = Date.parse(openedAt);
  if (start === undefined || Number.isNaN(opened)) return null;
  if (start > opened + SENDER_CLOCK_SKEW_MS || start < opened - MAX_SENDER_LEAD_MS) return null;
  return start > opened ? openedAt : new Date(start).toISOString();
}

/**
 * ended_at from the IncidentResolved of a source's resolve: the sender's endsAt, resolvedAt when endsAt is after it by
 * at most the skew, undefined (left null) when later than that. The store raises it to the incident's start
 * (endedAfterStart) when earlier: a duration is never negative.
 */
export function senderEnd(endsAt: string | undefined, resolvedAt: string): string | undefined {
  const end = instant(endsAt);
  const resolved = Date.parse(resolvedAt);
  if (end === undefined || Number.isNaN(resolved)) return undefined;
  if (end > resolved + SENDER_CLOCK_SKEW_MS) return undefined;
  return end > resolved ? resolvedAt : new Date(end).toISOString();
}

/**
 * ended_at as stored: no earlier than the incident's start (started_at, else opened_at), and null (not known) when the
 * sender's end is before that start by more than the clock skew. Such an end (a payload replayed days later, a sender's
 * broken clock) says nothing about when this incident ended; raised to the start, it was shown as the sender's end and
 * counted as a resolve in no time. endedAfterStartSql is the same in SQL.
 */
export function endedAfterStart(endedAt: string, row: { startedAt: string | null; openedAt: string }): string | null {
  const start = row.startedAt ?? row.openedAt;
  const [end, from] = [micros(endedAt), micros(start)];
  if (end < from - SENDER_CLOCK_SKEW_MS * 1000) return null;
  return end < from ? start : endedAt;
}

/** endedAfterStart in SQL, of two timestamptz expressions (each may be read more than once). */
export const endedAfterStartSql = (ended: string, start: string): string =>
  `CASE WHEN ${ended} IS NULL OR ${ended} < ${start} - interval '${SENDER_CLOCK_SKEW_MS / 1000} seconds' THEN NULL ELSE GREATEST(${ended}, ${start}) END`;

/**
 * An instant in microseconds, as Postgres keeps a timestamptz: Date.parse drops the digits after the milliseconds,
 * which the router's times and the sender's may carry, and the SQL the projection writes compares them.
 */
function micros(text: string): number {
  const ms = Date.parse(text);
  const fraction = /T[^.]*\.(\d+)/.exec(text)?.[1] ?? '';
  const rest = fraction.length > 3 ? Math.round(Number(`0.${fraction.slice(3)}`) * 1000) : 0;
  return ms * 1000 + rest;
}

/** The previous occurrence's end, as the durations take it: the sender's (ended_at), else alertbus's resolve. */
export const previousEnd = (previous: { endedAt: string | null; resolvedAt: string | null }): string | null => previous.endedAt ?? previous.resolvedAt;

/**
 * started_at of an incident opened again on its alias: never before the previous incident ended. A person's resolve
 * while the alert still fires, then its next firing, reopens with the alert's first startsAt, before that resolve:
 * the second incident would then be counted from the start of the first. Raised to the previous end (at most opened_at);
 * startedAfterPreviousSql is the same in SQL.
 */
export function startedAfterPrevious(startedAt: string | null, openedAt: string, previousEndedAt: string | null): string | null {
  if (startedAt === null || previousEndedAt === null || micros(startedAt) >= micros(previousEndedAt)) return startedAt;
  return micros(previousEndedAt) <= micros(openedAt) ? previousEndedAt : openedAt;
}

/** startedAfterPrevious in SQL, of three timestamptz expressions (each may be read more than once). */
export const startedAfterPreviousSql = (started: string, opened: string, previousEndedAt: string): string =>
  `CASE WHEN ${started} IS NULL OR ${previousEndedAt} IS NULL THEN ${started} ELSE GREATEST(${started}, LEAST(${previousEndedAt}, ${opened})) END`;
