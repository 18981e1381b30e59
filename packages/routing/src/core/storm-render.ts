import type { AliasState } from '@alertbus/schemas';
import { LIMITS, type SlackMessage } from './render';
import type { Storm } from './storm';
import { codePoints, escapeMrkdwn, truncate, truncateMrkdwn } from './text';

const ICON = { open: '🔥', acknowledged: '👀', resolved: '✅' } as const;

/** Incidents listed one per line; the rest summed up, so the section stays under Block Kit's limit. */
function lines(members: readonly AliasState[], max: number): string {
  const out: string[] = [];
  let used = 0;
  for (const [i, m] of members.entries()) {
    const line = `${ICON[m.status]} ${escapeMrkdwn(truncate(m.title, 120))} (${escapeMrkdwn(m.severity)}) · \`${escapeMrkdwn(truncate(m.alias, 80))}\``;
    const rest = members.length - i - 1;
    const reserve = rest > 0 ? 40 : 0;
    if (used + codePoints(line) + 1 + reserve > max) {
      out.push(`…and ${members.length - i} more`);
      break;
    }
    out.push(line);
    used += codePoints(line) + 1;
  }
  return out.join('\n');
}

/**
 * The storm summary: one message per storm, posted for its first gathered incident and updated in place
 * as more join or resolve, instead of one thread each.
 */
export function renderStormSummary(storm: Storm, members: readonly AliasState[]): SlackMessage {
  const open = members.filter((m) => m.status !== 'resolved').length;
  const head = `Alert storm in ${storm.channel}: ${members.length} incident${members.length === 1 ? '' : 's'} gathered here since ${storm.since}`;
  const why = `More than ${storm.limits.threshold} new incidents within ${storm.limits.window}: further ones are listed here instead of one thread each, until it calms down. ${open} still open.`;
  return {
    text: truncateMrkdwn(`[STORM] ${escapeMrkdwn(head)} (${open} open)`, LIMITS.fallback),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(`🌩️ Alert storm in ${storm.channel}`, LIMITS.header), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(`*${escapeMrkdwn(head)}*\n${escapeMrkdwn(why)}`, LIMITS.sectionText) } },
      { type: 'section', text: { type: 'mrkdwn', text: lines(members, LIMITS.sectionText - 10) || '—' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: truncateMrkdwn(`storm ${escapeMrkdwn(storm.id)}`, LIMITS.sectionText) }] },
    ],
  };
}
