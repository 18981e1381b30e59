/**
 * The sender's times of an incident (started_at, ended_at) beside alertbus's (opened_at, resolved_at), shown only where
 * they differ by more than a few seconds: most alerts reach alertbus within group_wait, and one time says it all.
 */

/** Differences up to this are the same moment to a reader (the history page uses the same). */
export const SHOWN_DIFFERENCE_MS = 5_000;

interface Times {
  opened_at: string;
  started_at?: string | null;
  resolved_at?: string | null;
  ended_at?: string | null;
}

const differs = (a: string | null | undefined, b: string | null | undefined): a is string =>
  typeof a === 'string' && typeof b === 'string' && Math.abs(Date.parse(a) - Date.parse(b)) > SHOWN_DIFFERENCE_MS;

/** started_at when the sender's start differs from the opening, else ''. */
export function startedShown(i: Times): string {
  return differs(i.started_at, i.opened_at) ? i.started_at : '';
}

/** ended_at when the sender's end differs from the resolve, else ''. */
export function endedShown(i: Times): string {
  return differs(i.ended_at, i.resolved_at) ? i.ended_at : '';
}

/** "12m 30s" */
export function duration(fromIso: string, toIso: string): string {
  const s = Math.round(Math.abs(Date.parse(toIso) - Date.parse(fromIso)) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return [h ? `${h}h` : '', m ? `${m}m` : '', s % 60 || (!h && !m) ? `${s % 60}s` : ''].filter(Boolean).join(' ');
}

/** The lines of `incidents show` about when it started and ended, as the sender says, when that differs from ours. */
export function senderTimeLines(i: Times): string[] {
  const lines: string[] = [];
  const started = startedShown(i);
  if (started) lines.push(`  started ${started} as the sender says (${duration(started, i.opened_at)} before alertbus opened it)`);
  const ended = endedShown(i);
  if (ended) lines.push(`  ended ${ended} as the sender says (${duration(ended, i.resolved_at!)} before alertbus resolved it)`);
  return lines;
}
