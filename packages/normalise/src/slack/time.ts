/**
 * A Slack ts ("1583636399.000700") as an ISO time; Slack's own docs also show event_ts without the dot
 * ("1515449522000016", seconds then micros), so that form is read too. Undefined when it is neither.
 */
export function slackTsToIso(ts: string | undefined): string | undefined {
  if (typeof ts !== 'string') return undefined;
  const dotted = /^(\d{9,11})\.(\d{1,6})$/.exec(ts);
  const plain = /^(\d{10})(\d{6})$/.exec(ts);
  const m = dotted ?? plain;
  if (!m) return undefined;
  const ms = Number(m[1]) * 1000 + Math.floor(Number(m[2]!.padEnd(6, '0')) / 1000);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** JavaScript dates reach ±8.64e15 ms; beyond that toISOString throws. */
const MAX_DATE_MS = 8.64e15;

/** Unix seconds (event_time) as an ISO time; undefined for what is no time at all (not a number, ≤ 0, past year 275760). */
export function unixSecondsToIso(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0 || seconds * 1000 > MAX_DATE_MS) return undefined;
  return new Date(seconds * 1000).toISOString();
}

/** The message permalink Slack's chat.getPermalink would give, built from the workspace URL. */
export function slackPermalink(workspaceUrl: string, channel: string, ts: string, threadTs?: string): string {
  const base = workspaceUrl.endsWith('/') ? workspaceUrl : `${workspaceUrl}/`;
  const link = `${base}archives/${encodeURIComponent(channel)}/p${ts.replace('.', '')}`;
  return threadTs ? `${link}?thread_ts=${threadTs}&cid=${encodeURIComponent(channel)}` : link;
}
