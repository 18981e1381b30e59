import { deriveId, type AliasState } from '@alertbus/schemas';
import type { CompiledRules, StormLimits } from '../rules/types';
import { liveState } from './expiry';
import { withChanges } from './evolve';
import { byOpened, isGroupedPage, type At, type Neighbours, type StormMembers } from './neighbours';

/** The storm limits of a channel: its own, else the file's; undefined when storm control is off for it. */
export function stormLimitsFor(rules: CompiledRules, channel: string): StormLimits | undefined {
  const sc = rules.stormControl;
  if (!sc) return undefined;
  if (Object.hasOwn(sc.channels, channel)) return sc.channels[channel] ?? undefined;
  return sc;
}

/** A storm a new incident is gathered into: the summary message's incident id, its alias, and since when. */
export interface Storm {
  id: string;
  alias: string;
  channel: string;
  since: string;
  limits: StormLimits;
  /** Openings for the channel in the window that the decision counted (set when a new incident was gathered). */
  recent?: number;
}

/** The key of a storm's summary: its commands' and its ticks' (so one router instance decides all its ticks). */
/** How every storm summary's key (and its page's alias) begins. */
export const STORM_KEY_PREFIX = 'storm:';
export const stormSummaryKey = (channel: string, since: string): string => `${STORM_KEY_PREFIX}${channel}:${since}`;

/**
 * The channel and start of the storm whose summary (and grouped pager alert) has this key, or undefined for another key.
 * The start is the last part: an instant as toISOString writes it, whatever the channel's name holds.
 */
export function stormOfKey(key: string): { channel: string; since: string; id: string } | undefined {
  if (!key.startsWith(STORM_KEY_PREFIX)) return undefined;
  const m = /^(.+):(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$/.exec(key.slice(STORM_KEY_PREFIX.length));
  return m ? { channel: m[1]!, since: m[2]!, id: stormIdOf(m[1]!, m[2]!) } : undefined;
}

/** The summary message of a storm is an incident of its own, keyed by channel and start, so the Slack sink threads it. */
export function stormOf(channel: string, since: string, limits: StormLimits): Storm {
  return { id: stormIdOf(channel, since), alias: stormSummaryKey(channel, since), channel, since, limits };
}

/** Ids of the storms asked about lately: every decision in a storming channel asks for its storm's (a sha256 each). */
const stormIds = new Map<string, string>();
const STORM_IDS_MAX = 1_024;

function stormIdOf(channel: string, since: string): string {
  const key = `${channel}\u0000${since}`;
  let id = stormIds.get(key);
  if (id === undefined) {
    if (stormIds.size >= STORM_IDS_MAX) stormIds.clear();
    id = deriveId('storm', channel, since);
    stormIds.set(key, id);
  }
  return id;
}

/**
 * Whether a new incident for `channel` at `at` is gathered into a storm summary: when more than `threshold`
 * incidents would then have been opened for the channel within the window. It joins the channel's latest
 * storm while that storm's last incident is inside the window, else starts a new one. Storms end on their
 * own: once the window holds fewer openings, new incidents get their own thread again.
 */
export function stormFor(rules: CompiledRules, channel: string, alias: string, at: string, neighbours: Neighbours, retentionMs?: number): Storm | undefined {
  const limits = stormLimitsFor(rules, channel);
  if (!limits) return undefined;
  const t = Date.parse(at);
  const from = t - limits.windowMs;
  const { recent, latest } = neighbours.stormWindow(channel, alias, from, t, { atMs: t, retentionMs });
  if (recent < limits.threshold) return undefined;
  const since = latest && latest.lastOpenedMs > from ? latest.since : at;
  return withChanges(stormOf(channel, since, limits), { recent });
}

/** 1 for an open incident, else 0; made once, not per call (under tsx each function made names itself with a call). */
const open = (s: AliasState | undefined) => (s && s.status !== 'resolved' ? 1 : 0);
const paged = (s: AliasState | undefined) => (s && isGroupedPage(s) ? 1 : 0);

/**
 * The incidents listed in a storm summary, oldest first, with `current` (the incident just decided) in
 * place of what the index holds for its alias. Members are produced lazily: the summary reads only as many
 * as fit in a message.
 */
export function stormMembers(neighbours: Neighbours, storm: Pick<Storm, 'id' | 'channel'>, current: AliasState, at: At): StormMembers {
  const known = neighbours.stormMembers(storm.id, storm.channel, at);
  const held = liveState(neighbours.get(current.alias), at.atMs, at.retentionMs);
  const heldIsMember = held?.storm?.id === storm.id;
  const isMember = current.storm?.id === storm.id;
  return {
    total: known.total - (heldIsMember ? 1 : 0) + (isMember ? 1 : 0),
    open: known.open - (heldIsMember ? open(held) : 0) + (isMember ? open(current) : 0),
    members: merged(known.members, current, isMember),
    paged: known.paged - (heldIsMember ? paged(held) : 0) + (isMember ? paged(current) : 0),
    pagedOpen: known.pagedOpen - (heldIsMember ? paged(held) * open(held) : 0) + (isMember ? paged(current) * open(current) : 0),
    ...(known.lastChangeMs !== undefined ? { lastChangeMs: known.lastChangeMs } : {}),
  };
}

/**
 * While a storm has gathered at most this many incidents, every join and every resolve updates its summary: a small
 * storm (often one webhook of alerts in the same second) costs few updates, and the summary must not show part of it
 * for hours, until its next change.
 */
export const STORM_SUMMARY_EXACT_UP_TO = 100;

/**
 * Beyond that, event time is cut into slots of this length; a storm summary is updated in place at most once per slot,
 * by the first change to the storm in it: Slack takes about one update a second per channel, and the Slack sink keeps
 * only the last of the updates it reads together.
 */
export const STORM_SUMMARY_INTERVAL_MS = 1_000;

/**
 * Also every this many incidents joined (or resolved): a router holding several partitions decides their batches in
 * any order, so a storm's changes can come older than its latest; counts bound what such changes leave unshown.
 */
export const STORM_SUMMARY_EVERY = 50;

const slotOf = (ms: number) => Math.floor(ms / STORM_SUMMARY_INTERVAL_MS);

/**
 * Whether a change to a storm at `atMs` updates its summary: always while the storm has gathered at most
 * STORM_SUMMARY_EXACT_UP_TO incidents (this one included); beyond that, when it is the storm's first change in a later
 * slot of event time than its latest change so far; when the incidents it has gathered (for a join) or still has open
 * (for a resolve) are a multiple of STORM_SUMMARY_EVERY; always when none is open any more (the storm's final state).
 * What the others change shows with the next update: the summary of a larger storm lacks at most one slot's changes,
 * and never more than STORM_SUMMARY_EVERY - 1 joins and as many resolves.
 */
export function updatesSummary(members: Pick<StormMembers, 'total' | 'open' | 'lastChangeMs'>, atMs: number, resolved: boolean): boolean {
  if (members.lastChangeMs === undefined || members.total <= STORM_SUMMARY_EXACT_UP_TO) return true;
  if ((resolved ? members.open : members.total) % STORM_SUMMARY_EVERY === 0) return true;
  return slotOf(atMs) > slotOf(members.lastChangeMs);
}

/** What a tick's update of a storm summary showed (the `storm-summary` state under the summary's key). */
export interface SummaryShown {
  total: number;
  open: number;
  lastChangeAt: string;
}

/**
 * Whether a storm's summary may lack changes it has not shown, for a tick to update: only a storm of more than
 * STORM_SUMMARY_EXACT_UP_TO incidents leaves changes out (a smaller one is updated for every change), and not once none
 * is open (that change always updates it: the final state). The decisions of the storm's members do not record
 * whether they updated it, so any other storm counts as stale until a tick has shown it as it is: a tick after a quiet
 * storm whose last change happened to update the summary updates it once more, with the same content; after that,
 * ticks find nothing to do until the storm changes again.
 */
export function summaryStale(members: Pick<StormMembers, 'total' | 'open' | 'lastChangeMs'>, shown: SummaryShown | undefined): boolean {
  if (members.lastChangeMs === undefined || members.total <= STORM_SUMMARY_EXACT_UP_TO || members.open === 0) return false;
  return shown === undefined || shown.total !== members.total || shown.open !== members.open || Date.parse(shown.lastChangeAt) !== members.lastChangeMs;
}

/**
 * Whether a tick at `tickMs` updates a storm's summary: it is stale, and the storm's latest change is in an earlier
 * slot of event time than the tick (a change in the tick's own slot may still be followed by others in it).
 */
export function tickUpdatesSummary(members: Pick<StormMembers, 'total' | 'open' | 'lastChangeMs'>, shown: SummaryShown | undefined, tickMs: number): boolean {
  return summaryStale(members, shown) && slotOf(members.lastChangeMs!) < slotOf(tickMs);
}

function* merged(members: Iterable<AliasState>, current: AliasState, isMember: boolean): Iterable<AliasState> {
  let pending = isMember;
  for (const s of members) {
    if (s.alias === current.alias) continue;
    if (pending && byOpened(current, s) < 0) {
      pending = false;
      yield current;
    }
    yield s;
  }
  if (pending) yield current;
}
