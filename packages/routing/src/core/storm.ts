import { deriveId, type AliasState } from '@alertbus/schemas';
import type { CompiledRules, StormLimits } from '../rules/types';
import { targetChannel, type Neighbours } from './neighbours';

/** The storm limits of a channel: its own, else the file's; undefined when storm control is off for it. */
export function stormLimitsFor(rules: CompiledRules, channel: string): StormLimits | undefined {
  const sc = rules.stormControl;
  if (!sc) return undefined;
  if (channel in sc.channels) return sc.channels[channel] ?? undefined;
  return sc;
}

/** A storm a new incident is gathered into: the summary message's incident id, its alias, and since when. */
export interface Storm {
  id: string;
  alias: string;
  channel: string;
  since: string;
  limits: StormLimits;
}

/** The summary message of a storm is an incident of its own, keyed by channel and start, so the Slack sink threads it. */
export function stormOf(channel: string, since: string, limits: StormLimits): Storm {
  return { id: deriveId('storm', channel, since), alias: `storm:${channel}:${since}`, channel, since, limits };
}

/**
 * Whether a new incident for `channel` at `at` is gathered into a storm summary: when more than `threshold`
 * incidents would then have been opened for the channel within the window. It joins the channel's latest
 * storm while that storm's last incident is inside the window, else starts a new one. Storms end on their
 * own: once the window holds fewer openings, new incidents get their own thread again.
 */
export function stormFor(rules: CompiledRules, channel: string, alias: string, at: string, neighbours: Neighbours): Storm | undefined {
  const limits = stormLimitsFor(rules, channel);
  if (!limits) return undefined;
  const t = Date.parse(at);
  const from = t - limits.windowMs;
  let recent = 0;
  let latest: { since: string; lastOpenedMs: number } | undefined;
  for (const s of neighbours.inChannel(channel)) {
    if (s.alias === alias || targetChannel(s) !== channel) continue;
    const opened = Date.parse(s.openedAt);
    if (opened > from && opened <= t) recent += 1;
    if (s.storm && s.storm.channel === channel) {
      if (!latest || s.storm.since > latest.since) latest = { since: s.storm.since, lastOpenedMs: opened };
      else if (s.storm.since === latest.since && opened > latest.lastOpenedMs) latest.lastOpenedMs = opened;
    }
  }
  if (recent < limits.threshold) return undefined;
  const since = latest && latest.lastOpenedMs > from ? latest.since : at;
  return stormOf(channel, since, limits);
}

/** The incidents listed in a storm summary, oldest first. */
export function stormMembers(neighbours: Neighbours, storm: Pick<Storm, 'id' | 'channel'>, extra: AliasState | undefined): AliasState[] {
  const members = new Map<string, AliasState>();
  for (const s of neighbours.inChannel(storm.channel)) if (s.storm?.id === storm.id) members.set(s.alias, s);
  if (extra?.storm?.id === storm.id) members.set(extra.alias, extra);
  return [...members.values()].sort((a, b) => (a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : a.alias < b.alias ? -1 : 1));
}
