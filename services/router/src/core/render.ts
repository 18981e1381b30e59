import type { Labels, Link, RuleRef } from '@alertbus/schemas';
import { codePoints, escapeMrkdwn, sortedEntries, truncate } from './text';

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
  openedAt: string;
  resolvedAt?: string;
  rule: RuleRef;
}

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

/** Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const LIMITS = { header: 150, sectionText: 3000, field: 2000, fields: 10, contextElements: 10, fallback: 3000 } as const;

const STATUS_ICON = { open: ':rotating_light:', acknowledged: ':eyes:', resolved: ':white_check_mark:' } as const;
const STATUS_WORD = { open: 'FIRING', acknowledged: 'ACKNOWLEDGED', resolved: 'RESOLVED' } as const;

const mrkdwn = (text: string, max: number) => ({ type: 'mrkdwn', text: truncate(text, max) });

function linkLine(links: readonly Link[], max: number): string | null {
  const parts: string[] = [];
  let used = 0;
  for (const l of links) {
    if (!/^https?:\/\//i.test(l.url)) continue;
    const url = l.url.replace(/\|/g, '%7C').replace(/>/g, '%3E').replace(/</g, '%3C');
    const part = `<${url}|${escapeMrkdwn(l.title || l.url).replace(/\|/g, '¦')}>`;
    const add = codePoints(part) + (parts.length ? 3 : 0);
    if (used + add > max) break;
    parts.push(part);
    used += add;
  }
  return parts.length ? parts.join(' · ') : null;
}

function labelLines(labels: Labels, max: number): string | null {
  const entries = sortedEntries(labels);
  if (entries.length === 0) return null;
  return truncate(`*Labels*\n${entries.map(([k, v]) => `• ${escapeMrkdwn(k)}: ${escapeMrkdwn(v)}`).join('\n')}`, max);
}

/** The fallback text: what notifications and screen readers show. */
export function rootText(v: IncidentView): string {
  return truncate(`[${STATUS_WORD[v.status]}] ${v.title} (${v.severity}, ${v.source})`, LIMITS.fallback);
}

/** The incident's root message: header, facts, description, labels, links and a context line with the alias. */
export function renderRoot(v: IncidentView): SlackMessage {
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${v.status === 'resolved' ? '✅' : '🔥'} ${v.title}`, LIMITS.header), emoji: true } },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Status*\n${STATUS_ICON[v.status]} ${STATUS_WORD[v.status]}`, LIMITS.field),
        mrkdwn(`*Severity*\n${escapeMrkdwn(v.severity)}`, LIMITS.field),
        mrkdwn(`*Source*\n${escapeMrkdwn(v.source)}`, LIMITS.field),
        mrkdwn(`*Count*\n${v.count}`, LIMITS.field),
        mrkdwn(`*Opened*\n${v.openedAt}`, LIMITS.field),
        ...(v.resolvedAt ? [mrkdwn(`*Resolved*\n${v.resolvedAt}`, LIMITS.field)] : []),
      ].slice(0, LIMITS.fields),
    },
  ];
  if (v.description && v.description.trim() !== '') {
    blocks.push({ type: 'section', text: mrkdwn(escapeMrkdwn(v.description), LIMITS.sectionText) });
  }
  const labels = labelLines(v.labels, LIMITS.sectionText);
  if (labels) blocks.push({ type: 'section', text: mrkdwn(labels, LIMITS.sectionText) });
  const links = linkLine(v.links, LIMITS.sectionText);
  if (links) blocks.push({ type: 'section', text: mrkdwn(links, LIMITS.sectionText) });
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(`alias \`${escapeMrkdwn(v.alias)}\``, LIMITS.sectionText),
      mrkdwn(`occurrence ${v.occurrence} · incident ${v.incidentId}`, LIMITS.sectionText),
      mrkdwn(`rule ${escapeMrkdwn(v.rule.name ?? v.rule.path)}`, LIMITS.sectionText),
    ],
  });
  return { text: rootText(v), blocks };
}

/** Thread reply when a still-firing alert is re-notified after the repeat interval. */
export function repeatReplyText(v: IncidentView): string {
  return truncate(`Still firing: ${v.title} (received ${v.count} times since ${v.openedAt})`, LIMITS.fallback);
}

/** Thread reply when the incident resolves. */
export function resolvedReplyText(v: IncidentView): string {
  return truncate(`Resolved: ${v.title} (fired ${v.count} ${v.count === 1 ? 'time' : 'times'})`, LIMITS.fallback);
}
