import type { AlertValues, AliasState, Labels, Link, PagerProvider, RuleRef, SlackButtonValue } from '@alertbus/schemas';
import { incidentPageUrl, OWN_ACTION_ID_PREFIX, severityEmoji, slackDate, viewButton } from './slack-format';
import { cutToFit } from './cut-mark';
import { codePoints, escapeMrkdwn, pagerUserText, slackUserRef, sortedEntries, truncate, truncateMrkdwn } from './text';
import { labelsWithoutCredentials, linksWithoutCredentials, withoutCredentials } from './shown-text';

/** What a rendering needs beyond the incident: configuration the adapter passes in (never read from the environment here). */
export interface RenderOptions {
  /** HISTORY_PUBLIC_URL: adds a "View in alertbus" button to the incident's page. */
  historyUrl?: string;
}

/** What a Slack rendering of an incident shows. */
export interface IncidentView {
  alias: string;
  incidentId: string;
  occurrence: number;
  title: string;
  severity: string;
  source: string;
  status: 'open' | 'acknowledged' | 'resolved';
  count: number;
  labels: Labels;
  links: readonly Link[];
  description?: string;
  /** The measured values of the alert that opened the incident (Grafana's), when it sent any. */
  values?: AlertValues;
  openedAt: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  /** Set when acknowledged in the pager: acknowledgedBy is the name it reported, not a Slack user. */
  acknowledgedIn?: PagerProvider;
  resolvedAt?: string;
  resolvedBy?: string;
  /** Set when resolved in the pager: resolvedBy is the name it reported, not a Slack user. */
  resolvedIn?: PagerProvider;
  rule: RuleRef;
}

/**
 * What the Slack renderings show of an alias's state: what its sender wrote (title, description, labels, links) without
 * the credentials in it; the state and its facts keep it as sent.
 */
export function incidentView(s: AliasState): IncidentView {
  return {
    alias: s.alias,
    incidentId: s.incidentId,
    occurrence: s.occurrence,
    title: withoutCredentials(s.title),
    severity: s.severity,
    source: s.source,
    status: s.status,
    count: s.count,
    labels: labelsWithoutCredentials(s.labels),
    links: linksWithoutCredentials(s.links),
    ...(s.description !== undefined ? { description: withoutCredentials(s.description) } : {}),
    ...(s.values !== undefined ? { values: s.values } : {}),
    openedAt: s.openedAt,
    ...(s.acknowledgedAt !== undefined ? { acknowledgedAt: s.acknowledgedAt } : {}),
    ...(s.acknowledgedBy !== undefined ? { acknowledgedBy: s.acknowledgedBy } : {}),
    ...(s.acknowledgedIn !== undefined ? { acknowledgedIn: s.acknowledgedIn } : {}),
    ...(s.resolvedAt !== undefined ? { resolvedAt: s.resolvedAt } : {}),
    ...(s.resolvedBy !== undefined ? { resolvedBy: s.resolvedBy } : {}),
    ...(s.resolvedIn !== undefined ? { resolvedIn: s.resolvedIn } : {}),
    rule: s.rule,
  };
}

/** Action ids of the root message's buttons; their value is a SlackButtonValue (JSON), so a click comes back keyed by the alias. */
export const BUTTON_ACTION_IDS = { ack: `${OWN_ACTION_ID_PREFIX}ack`, resolve: `${OWN_ACTION_ID_PREFIX}resolve` } as const;

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

/** Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const LIMITS = { header: 150, sectionText: 3000, field: 2000, fields: 10, contextElements: 10, fallback: 3000 } as const;

const STATUS_ICON = { open: ':rotating_light:', acknowledged: ':eyes:', resolved: ':white_check_mark:' } as const;
const STATUS_WORD = { open: 'FIRING', acknowledged: 'ACKNOWLEDGED', resolved: 'RESOLVED' } as const;

/** A mrkdwn text object: whatever it shows that is not ours must already be escaped. */
const mrkdwn = (text: string, max: number) => ({ type: 'mrkdwn', text: truncateMrkdwn(text, max) });

/** Characters that read as a dot between host labels and that NFKC leaves alone (it maps U+2024 and U+FF0E itself). */
const DOT_LOOKALIKES = /[\u00B7\u0387\u2027\u2219\u22C5\u2E31\u2E33\u3002\u30FB\uFF61]/g;
/** Characters that show nothing: `grafana.\u200Bcorp` reads as grafana.corp. */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
/** Dotted names in any script (`grafana.corp`, `grafana.сorp` with a Cyrillic с, `10.0.0.5`); linear, no nested choice. */
const DOTTED = /[\p{L}\p{N}\p{M}_-]+(?:\.[\p{L}\p{N}\p{M}_-]+)+/gu;

/** The title as a reader sees it: compatibility forms folded (NFKC), invisible characters gone, look-alike dots as dots. */
const asRead = (title: string): string => title.normalize('NFKC').replace(INVISIBLE, '').replace(DOT_LOOKALIKES, '.');

/** The host a dotted name in a title would be, as a URL parser reads it (lower case, punycode), or null if none. */
function titleHost(name: string): string | null {
  const labels = name.split('.');
  const last = labels[labels.length - 1]!;
  const ipv4 = labels.length === 4 && labels.every((x) => /^[0-9]{1,3}$/.test(x));
  if (!ipv4 && !(codePoints(last) >= 2 && /\p{L}/u.test(last))) return null; // a version (1.2.3), not a host
  try {
    return new URL(`http://${name}/`).hostname;
  } catch {
    return name; // no host a parser accepts, but a reader might take it for one
  }
}

/**
 * A link's label as the sender titled it, unless the title names a host the link does not go to: then the real host
 * follows it, so `https://grafana.corp/d/abc` linking to another site reads "https://grafana.corp/d/abc (evil.example)".
 * The title is read as a reader sees it, so an invisible character, a look-alike dot or a letter of another script
 * inside the name does not hide it.
 */
export function linkLabel(l: Link): string {
  if (!l.title) return l.url;
  let host: string;
  try {
    host = new URL(l.url).hostname.toLowerCase();
  } catch {
    return l.title;
  }
  if (!host) return l.title;
  // The head of the title only: what a reader takes for the target is at its start, and the test stays short.
  const head = asRead(l.title.slice(0, 300));
  const named = Array.from(head.matchAll(DOTTED), (m) => titleHost(m[0])).filter((h): h is string => h !== null);
  const other = named.some((h) => h !== host) || (head.includes('://') && named.length === 0 && !head.toLowerCase().includes(host));
  return other ? `${l.title} (${host})` : l.title;
}

function linkLine(links: readonly Link[], max: number): string | null {
  const parts: string[] = [];
  let used = 0;
  for (const l of links) {
    if (!/^https?:\/\//i.test(l.url)) continue;
    // Inside <url|label> the URL may not hold | < >; & is written &amp;, as Slack writes URLs in message text itself.
    const url = l.url.replace(/&/g, '&amp;').replace(/\|/g, '%7C').replace(/>/g, '%3E').replace(/</g, '%3C');
    const part = `<${url}|${escapeMrkdwn(linkLabel(l)).replace(/\|/g, '¦')}>`;
    const add = codePoints(part) + (parts.length ? 3 : 0);
    if (used + add > max) break;
    parts.push(part);
    used += add;
  }
  return parts.length ? parts.join(' · ') : null;
}

/** How many of an alert's measured values the root message shows, how long their line and a value's name may be. */
export const VALUES_SHOWN = { count: 8, length: 400, name: 40 } as const;

/**
 * "A = 2473545728 · C = 1": the values in the order sent, numbers as JSON writes them, names escaped and on one line,
 * at most VALUES_SHOWN.count within VALUES_SHOWN.length, then how many more there are; null when there are none.
 */
export function valuesLine(values: AlertValues | undefined): string | null {
  if (values === undefined) return null;
  const entries = Object.entries(values);
  const parts: string[] = [];
  let used = 0;
  for (const [k, v] of entries) {
    if (parts.length === VALUES_SHOWN.count) break;
    const part = `${escapeMrkdwn(truncate(k.slice(0, VALUES_SHOWN.name * 2).replace(/\s+/g, ' '), VALUES_SHOWN.name))} = ${v === null ? 'null' : String(v)}`;
    const add = codePoints(part) + (parts.length ? 3 : 0);
    if (used + add > VALUES_SHOWN.length) break;
    parts.push(part);
    used += add;
  }
  if (parts.length === 0) return null;
  const more = entries.length - parts.length;
  return `${parts.join(' · ')}${more > 0 ? ` · +${more} more` : ''}`;
}

/** The labels, one a line; cut with the mark of what is missing when they do not all fit. */
function labelLines(labels: Labels, max: number): { text: string; removed: number } | null {
  const entries = sortedEntries(labels);
  if (entries.length === 0) return null;
  // Escaped as a whole: `*Labels*` holds nothing to escape, and a cut never falls inside an escape.
  return cutToFit(`*Labels*\n${entries.map(([k, v]) => `• ${k}: ${v}`).join('\n')}`, max, { mrkdwn: true });
}

/**
 * The line under a cut text saying where the whole of it is: the incident in the history (its page when the message
 * links it); text ingest cut is there as ingest kept it.
 */
function wholeTextLine(incidentId: string, pageUrl: string | undefined): string {
  const show = `\`alertbus incidents show ${escapeMrkdwn(incidentId)}\``;
  const page = pageUrl ? `<${pageUrl.replace(/&/g, '&amp;').replace(/\|/g, '%7C').replace(/>/g, '%3E').replace(/</g, '%3C')}|the incident's page> or ` : '';
  return `:scissors: Text was cut to fit Slack (see the "…[cut: N characters]" marks); the text as alertbus received and kept it: ${page}${show}`;
}

/**
 * "<@U123> at 2025-…" for who acknowledged / resolved in Slack; the name a pager reported as text (anyone holding its
 * integration key chooses it, so `U0CEO1234` must not mention that Slack user); just the time when nobody did.
 */
function byLine(by: string | undefined, inPager: PagerProvider | undefined, at: string): string {
  if (!by) return slackDate(at);
  return `${inPager !== undefined ? pagerUserText(by) : slackUserRef(by)} at ${slackDate(at)}`;
}

/**
 * Acknowledge and Resolve until the incident is resolved; once acknowledged, Resolve alone (a second Acknowledge
 * did nothing anyone could see). A click on a button an earlier update showed is recorded and ignored.
 */
function actionButtons(v: IncidentView, pageUrl: string | undefined): unknown {
  const value: SlackButtonValue = { alias: v.alias, incidentId: v.incidentId };
  const button = (actionId: string, text: string, style?: 'primary') => ({
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text, emoji: true },
    value: JSON.stringify(value),
    ...(style ? { style } : {}),
  });
  return {
    type: 'actions',
    block_id: 'alertbus_incident_actions',
    elements: [
      ...(v.status === 'acknowledged' ? [] : [button(BUTTON_ACTION_IDS.ack, 'Acknowledge', 'primary')]),
      button(BUTTON_ACTION_IDS.resolve, 'Resolve'),
      ...(pageUrl ? [viewButton(pageUrl)] : []),
    ],
  };
}

/** Who a rule's `mention` pings, written first: Slack markup the rules compiled (never text from an alert). */
const withMention = (mention: readonly string[], text: string) => (mention.length > 0 ? `${mention.join(' ')} ${text}` : text);

/**
 * The fallback text: what notifications and screen readers show. Slack parses it as mrkdwn, so everything
 * the alert brought is escaped; only `mention` (from the rule) pings anyone.
 */
export function rootText(v: IncidentView, mention: readonly string[] = []): string {
  const head = withMention(mention, `[${STATUS_WORD[v.status]}] `);
  const tail = ` (${escapeMrkdwn(v.severity)}, ${escapeMrkdwn(v.source)})`;
  const title = cutToFit(v.title, Math.max(200, LIMITS.fallback - codePoints(head) - codePoints(tail)), { mrkdwn: true, earlier: true });
  return truncateMrkdwn(`${head}${title.text}${tail}`, LIMITS.fallback);
}

/**
 * The incident's root message: header, the rule's mention, facts, description, labels, links and a context
 * line with the alias. `mention` is given for the post that opens the incident, never for updates, so an
 * edit never pings again.
 */
export function renderRoot(v: IncidentView, mention: readonly string[] = [], opts: RenderOptions = {}): SlackMessage {
  const pageUrl = incidentPageUrl(opts.historyUrl, v.incidentId);
  const emoji = `${severityEmoji(v.severity, v.status)} `;
  // plain_text: shown as written, never parsed for mentions or links, so the title needs no escaping here.
  const header = cutToFit(v.title, LIMITS.header - codePoints(emoji), { earlier: true });
  let cut = header.removed > 0;
  const values = valuesLine(v.values);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: `${emoji}${header.text}`, emoji: true } },
    ...(mention.length > 0 ? [{ type: 'section', text: mrkdwn(mention.join(' '), LIMITS.sectionText) }] : []),
    {
      type: 'section',
      fields: [
        mrkdwn(`*Status*\n${STATUS_ICON[v.status]} ${STATUS_WORD[v.status]}`, LIMITS.field),
        mrkdwn(`*Severity*\n${escapeMrkdwn(v.severity)}`, LIMITS.field),
        ...(values !== null ? [mrkdwn(`*Values*\n${values}`, LIMITS.field)] : []),
        mrkdwn(`*Source*\n${escapeMrkdwn(v.source)}`, LIMITS.field),
        mrkdwn(`*Count*\n${v.count}`, LIMITS.field),
        mrkdwn(`*Opened*\n${slackDate(v.openedAt)}`, LIMITS.field),
        ...(v.acknowledgedAt ? [mrkdwn(`*Acknowledged*\n${byLine(v.acknowledgedBy, v.acknowledgedIn, v.acknowledgedAt)}`, LIMITS.field)] : []),
        ...(v.resolvedAt ? [mrkdwn(`*Resolved*\n${byLine(v.resolvedBy, v.resolvedIn, v.resolvedAt)}`, LIMITS.field)] : []),
      ].slice(0, LIMITS.fields),
    },
  ];
  if (v.description && v.description.trim() !== '') {
    const description = cutToFit(v.description, LIMITS.sectionText, { mrkdwn: true, earlier: true });
    cut ||= description.removed > 0;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: description.text } });
  }
  const labels = labelLines(v.labels, LIMITS.sectionText);
  if (labels) {
    // A label value ingest cut ends with its own mark inside the list.
    cut ||= labels.removed > 0 || labels.text.includes('…[cut: ');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: labels.text } });
  }
  const links = linkLine(v.links, LIMITS.sectionText);
  if (links) blocks.push({ type: 'section', text: mrkdwn(links, LIMITS.sectionText) });
  if (v.status !== 'resolved') blocks.push(actionButtons(v, pageUrl));
  else if (pageUrl) blocks.push({ type: 'actions', block_id: 'alertbus_incident_link', elements: [viewButton(pageUrl)] });
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(`alias \`${escapeMrkdwn(v.alias)}\``, LIMITS.sectionText),
      mrkdwn(`occurrence ${v.occurrence} · incident ${v.incidentId}`, LIMITS.sectionText),
      mrkdwn(`rule ${escapeMrkdwn(v.rule.name ?? v.rule.path)}`, LIMITS.sectionText),
      ...(cut ? [mrkdwn(wholeTextLine(v.incidentId, pageUrl), LIMITS.sectionText)] : []),
    ],
  });
  return { text: rootText(v, mention), blocks };
}

/** Thread reply when a still-firing alert is re-notified after the repeat interval: it pings as the post did. */
export function repeatReplyText(v: IncidentView, mention: readonly string[] = []): string {
  const title = cutToFit(v.title, LIMITS.fallback - 200, { mrkdwn: true, earlier: true }).text;
  return truncateMrkdwn(withMention(mention, `Still firing: ${title} (received ${v.count} times since ${slackDate(v.openedAt)})`), LIMITS.fallback);
}

/** Thread reply when the incident resolves. */
export function resolvedReplyText(v: IncidentView): string {
  const title = cutToFit(v.title, LIMITS.fallback - 100, { mrkdwn: true, earlier: true }).text;
  return truncateMrkdwn(`Resolved: ${title} (fired ${v.count} ${v.count === 1 ? 'time' : 'times'})`, LIMITS.fallback);
}
