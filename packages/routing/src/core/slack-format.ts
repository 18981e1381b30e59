/**
 * Pieces of richer alert messages: the severity's emoji, times every reader sees in their own time zone,
 * and the link to the incident's page in the history UI.
 */

/**
 * The severities alertbus knows, by class: one table for the header's colour and the built-in pager priority, so
 * an alert shown red in Slack is never paged at P3 (Zabbix `disaster`, `P1`/`SEV1`, syslog `emerg`).
 */
export type SeverityClass = 'critical' | 'error' | 'warning' | 'info';
const SEVERITY_CLASSES: ReadonlyArray<[RegExp, SeverityClass]> = [
  [/^(critical|crit|fatal|emergency|emerg|alert|disaster|page|p1|sev1|sev-1)$/, 'critical'],
  [/^(error|err|high|major|p2|sev2|sev-2)$/, 'error'],
  [/^(warning|warn|average|medium|p3|sev3|sev-3)$/, 'warning'],
  [/^(info|informational|notice|low|minor|ok|none|p4|p5|sev4|sev-4|sev5|sev-5)$/, 'info'],
];
const CLASS_EMOJI: Record<SeverityClass, string> = { critical: '🔴', error: '🟠', warning: '🟡', info: '🔵' };

/** The class of a severity (case and surrounding spaces ignored), or undefined for one alertbus does not know. */
export function severityClass(severity: string): SeverityClass | undefined {
  const s = severity.trim().toLowerCase();
  return SEVERITY_CLASSES.find(([re]) => re.test(s))?.[1];
}

/** Header emoji by severity; a severity alertbus does not know keeps the generic 🔥. */
export function severityEmoji(severity: string, status: 'open' | 'acknowledged' | 'resolved'): string {
  if (status === 'resolved') return '✅';
  if (status === 'acknowledged') return '👀';
  const c = severityClass(severity);
  return c ? CLASS_EMOJI[c] : '🔥';
}

/**
 * A time as a Slack date token: each reader sees it in their own time zone and locale; clients that cannot
 * render it show the fallback (UTC). Anything that is not a valid time is returned as it is.
 */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const fallback = `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/** The incident's page in the history UI (HISTORY_PUBLIC_URL), or undefined when no public URL is configured. */
export function incidentPageUrl(historyUrl: string | undefined, incidentId: string): string | undefined {
  if (!historyUrl) return undefined;
  return `${historyUrl.replace(/\/+$/, '')}/?incident=${encodeURIComponent(incidentId)}`;
}

/**
 * The start of every action_id alertbus gives its buttons: reserved, so a message built by a sender (POST
 * /notify-directly) cannot carry a button whose click alertbus would take for its own.
 */
export const OWN_ACTION_ID_PREFIX = 'alertbus_';

export const VIEW_ACTION_ID = `${OWN_ACTION_ID_PREFIX}view`;

/** A link button to the incident's page (Slack opens the URL; the click still reaches the app, which ignores it). */
export function viewButton(url: string): unknown {
  return { type: 'button', action_id: VIEW_ACTION_ID, text: { type: 'plain_text', text: 'View in alertbus', emoji: true }, url };
}
