/**
 * Pieces of richer alert messages: the severity's emoji, times every reader sees in their own time zone,
 * and the link to the incident's page in the history UI.
 */

/** Header emoji by (normalised) severity; a severity alertbus does not know keeps the generic 🔥. */
const SEVERITY_EMOJI: ReadonlyArray<[RegExp, string]> = [
  [/^(critical|crit|fatal|emergency|emerg|alert|disaster|page|p1|sev1|sev-1)$/, '🔴'],
  [/^(error|err|high|major|p2|sev2|sev-2)$/, '🟠'],
  [/^(warning|warn|average|medium|p3|sev3|sev-3)$/, '🟡'],
  [/^(info|informational|notice|low|minor|ok|none|p4|p5|sev4|sev-4|sev5)$/, '🔵'],
];

export function severityEmoji(severity: string, status: 'open' | 'acknowledged' | 'resolved'): string {
  if (status === 'resolved') return '✅';
  if (status === 'acknowledged') return '👀';
  const s = severity.trim().toLowerCase();
  return SEVERITY_EMOJI.find(([re]) => re.test(s))?.[1] ?? '🔥';
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

export const VIEW_ACTION_ID = 'alertbus_view';

/** A link button to the incident's page (Slack opens the URL; the click still reaches the app, which ignores it). */
export function viewButton(url: string): unknown {
  return { type: 'button', action_id: VIEW_ACTION_ID, text: { type: 'plain_text', text: 'View in alertbus', emoji: true }, url };
}
