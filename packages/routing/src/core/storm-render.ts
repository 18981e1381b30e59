import type { AliasState } from '@alertbus/schemas';
import { LIMITS, type SlackMessage } from './render';
import type { StormMembers } from './neighbours';
import type { Storm } from './storm';
import { PAGER_LIMITS } from './pager';
import { codePoints, escapeMrkdwn, truncate, truncateMrkdwn } from './text';
import { withoutCredentials } from './shown-text';

const ICON = { open: '🔥', acknowledged: '👀', resolved: '✅' } as const;

/**
 * A member's line and its length, by state object: states are never changed in place, and a storm's summary
 * lists the same oldest members again for every incident that joins it.
 */
const lineCache = new WeakMap<AliasState, { line: string; points: number }>();

function memberLine(m: AliasState): { line: string; points: number } {
  let cached = lineCache.get(m);
  if (!cached) {
    const line = `${ICON[m.status]} ${escapeMrkdwn(truncate(withoutCredentials(m.title), 120))} (${escapeMrkdwn(m.severity)}) · \`${escapeMrkdwn(truncate(m.alias, 80))}\``;
    cached = { line, points: codePoints(line) };
    lineCache.set(m, cached);
  }
  return cached;
}

/** Incidents listed one per line; the rest summed up, so the section stays under Block Kit's limit (reads no further). */
function lines(members: Iterable<AliasState>, total: number, max: number): string {
  const out: string[] = [];
  let used = 0;
  let i = -1;
  for (const m of members) {
    i += 1;
    const { line, points } = memberLine(m);
    const rest = total - i - 1;
    const reserve = rest > 0 ? 40 : 0;
    if (used + points + 1 + reserve > max) {
      out.push(`…and ${total - i} more`);
      break;
    }
    out.push(line);
    used += points + 1;
  }
  return out.join('\n');
}

/**
 * The storm summary: one message per storm, posted for its first gathered incident and updated in place
 * as more join or resolve, instead of one thread each.
 */
export function renderStormSummary(storm: Storm, { total, open, members }: StormMembers): SlackMessage {
  const head = `Alert storm in ${storm.channel}: ${total} incident${total === 1 ? '' : 's'} gathered here since ${storm.since}`;
  const why = `More than ${storm.limits.threshold} new incidents within ${storm.limits.window}: further ones are listed here instead of one thread each, until it calms down. ${open} still open.`;
  return {
    text: truncateMrkdwn(`[STORM] ${escapeMrkdwn(head)} (${open} open)`, LIMITS.fallback),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(`🌩️ Alert storm in ${storm.channel}`, LIMITS.header), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(`*${escapeMrkdwn(head)}*\n${escapeMrkdwn(why)}`, LIMITS.sectionText) } },
      { type: 'section', text: { type: 'mrkdwn', text: lines(members, total, LIMITS.sectionText - 10) || '—' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: truncateMrkdwn(`storm ${escapeMrkdwn(storm.id)}`, LIMITS.sectionText) }] },
    ],
  };
}

/** The storm page's message: the channel, and the alert that started it (the pager shows the message first). */
export function stormPageMessage(storm: Storm, firstTitle: string): string {
  return `Alert storm in ${storm.channel}: ${firstTitle.trim() === '' ? 'alert' : withoutCredentials(firstTitle)} and more`;
}

export function stormPageDescription(storm: Storm): string {
  return truncate(
    `More than ${storm.limits.threshold} new incidents within ${storm.limits.window} in ${storm.channel} since ${storm.since}. ` +
      'They page once, through this alert, instead of one alert each; every one is listed in the storm summary message in ' +
      `${storm.channel} and in the history. Notes follow as the storm grows; this alert is closed when all of them are resolved.`,
    PAGER_LIMITS.description,
  );
}

/** Plain text (the pager does not render Slack markup): counts, and the latest incident's title. */
export function stormPageNote(storm: Storm, { paged, pagedOpen }: StormMembers, latestTitle: string): string {
  return truncate(`The storm in ${storm.channel} has gathered ${paged} incidents so far, ${pagedOpen} open. Latest: ${withoutCredentials(latestTitle)}`, PAGER_LIMITS.note);
}

/** Who acknowledged which of the storm's incidents (the storm's alert stays open for the others). */
export function stormMemberAcknowledgedNote(by: string, member: Pick<AliasState, 'title' | 'alias'>): string {
  return truncate(`Acknowledged in Slack by ${by}: ${withoutCredentials(member.title)} (${member.alias}). This alert stays open until every incident of the storm is resolved.`, PAGER_LIMITS.note);
}

export function stormPageClosedNote({ paged }: StormMembers): string {
  return `All ${paged} incident${paged === 1 ? '' : 's'} of the storm are resolved.`;
}
