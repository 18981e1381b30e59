import { matchesAll, type AliasState } from '@alertbus/schemas';
import type { CompiledInhibitRule, CompiledRules } from '../rules/types';
import { liveState } from './expiry';
import { SortedList } from './sorted-list';

/** When a decision looks: the input's time, and ROUTER_STATE_RETENTION (expired states count as absent; unset: none expire). */
export interface At {
  atMs: number;
  retentionMs?: number;
}

/** What storm control needs of a channel: incidents opened in the window, and its latest storm. */
export interface StormWindow {
  recent: number;
  latest?: { since: string; lastOpenedMs: number };
}

/**
 * The incidents a storm summary lists: how many, how many still open, and the members oldest first; and of those
 * whose page is the storm's one pager alert (`storm.pageGrouped`), how many and how many still open.
 */
export interface StormMembers {
  total: number;
  open: number;
  members: Iterable<AliasState>;
  paged: number;
  pagedOpen: number;
}

/**
 * What a decision may know about other aliases, as questions answered from indexes, so that a decision costs
 * the same however many incidents are open or were opened in a channel.
 */
export interface Neighbours {
  get(alias: string): AliasState | undefined;
  /**
   * The earliest opened open incident of another alias matching the source side of `rules.inhibit[i]` with the
   * same `equal` labels as `labels`; when `inputIsSource`, one matching the target side too does not count.
   */
  inhibitor(rules: CompiledRules, i: number, alias: string, labels: Readonly<Record<string, string>>, inputIsSource: boolean): AliasState | undefined;
  /** Incidents of other aliases meant for `channel` opened in (fromMs, toMs], and the channel's latest storm. */
  stormWindow(channel: string, alias: string, fromMs: number, toMs: number, at: At): StormWindow;
  /** The incidents gathered into storm `id` of `channel`. */
  stormMembers(id: string, channel: string, at: At): StormMembers;
}

export const NO_NEIGHBOURS: Neighbours = {
  get: () => undefined,
  inhibitor: () => undefined,
  stormWindow: () => ({ recent: 0 }),
  stormMembers: () => ({ total: 0, open: 0, members: [], paged: 0, pagedOpen: 0 }),
};

/** The Slack channel an incident was meant for: its thread's, or the channel of the storm summary that lists it. */
export const targetChannel = (s: AliasState): string | undefined => s.slackChannel ?? s.storm?.channel;

const isOpen = (s: AliasState) => s.status !== 'resolved';
/** The incident pages through its storm's one pager alert. */
export const isGroupedPage = (s: AliasState) => s.storm?.pageGrouped === true;

/** What inhibit matchers see of an open incident: its labels and the pseudo-labels of the alert that opened it. */
export function incidentLabels(s: AliasState): Record<string, string> {
  return { ...s.labels, source: s.source, severity: s.severity, status: 'firing' };
}

/** Opened earlier, ties by alias: the order inhibitors are chosen in and storm summaries list their members in. */
export const byOpened = (a: AliasState, b: AliasState): number =>
  a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0;

interface Opening {
  ms: number;
  s: AliasState;
}
const byMs = (a: Opening, b: Opening) => a.ms - b.ms || (a.s.alias < b.s.alias ? -1 : a.s.alias > b.s.alias ? 1 : 0);
const stormSince = (o: Opening) => o.s.storm!.since;
const byStorm = (a: Opening, b: Opening) => (stormSince(a) < stormSince(b) ? -1 : stormSince(a) > stormSince(b) ? 1 : byMs(a, b));
const opening = (s: AliasState): Opening => ({ ms: Date.parse(s.openedAt), s });

interface StormBook {
  members: SortedList<AliasState>;
  open: number;
  /** Members paging through the storm's pager alert, and how many of them are open. */
  paged: number;
  pagedOpen: number;
  /** No member was resolved before this (a lower bound): until it expires, no member has. */
  firstResolvedMs: number;
}

type InhibitBucket = { both: SortedList<AliasState>; sourceOnly: SortedList<AliasState> };
const equalKey = (rule: CompiledInhibitRule, labels: Readonly<Record<string, string>>) => JSON.stringify(rule.equal.map((n) => labels[n] ?? ''));

/** The open incidents matching each inhibit rule's source side, by their `equal` labels, earliest first. */
class InhibitIndex {
  private readonly byRule: Array<Map<string, InhibitBucket>>;

  constructor(
    readonly rules: readonly CompiledInhibitRule[],
    open: Iterable<AliasState>,
  ) {
    this.byRule = rules.map(() => new Map());
    for (const s of open) this.add(s);
  }

  add(s: AliasState): void {
    this.each(s, (list) => list.insert(s), true);
  }

  remove(s: AliasState): void {
    this.each(s, (list) => list.remove(s), false);
  }

  private each(s: AliasState, f: (list: SortedList<AliasState>) => void, create: boolean): void {
    const sl = incidentLabels(s);
    this.rules.forEach((rule, i) => {
      if (!matchesAll(rule.source, sl)) return;
      const key = equalKey(rule, sl);
      let bucket = this.byRule[i]!.get(key);
      if (!bucket) {
        if (!create) return;
        this.byRule[i]!.set(key, (bucket = { both: new SortedList(byOpened), sourceOnly: new SortedList(byOpened) }));
      }
      f(matchesAll(rule.target, sl) ? bucket.both : bucket.sourceOnly);
    });
  }

  bucket(i: number, labels: Readonly<Record<string, string>>): InhibitBucket | undefined {
    return this.byRule[i]!.get(equalKey(this.rules[i]!, labels));
  }
}

/**
 * Alias states indexed for the questions decisions ask about other aliases: openings per channel in time
 * order (storm windows), storms per channel and their members, and open incidents per inhibit rule and
 * `equal` labels. Every answer is a few binary searches and a bounded walk; `visited` counts the entries
 * looked at, so tests can tell that it stays bounded.
 */
export class StateIndex implements Neighbours {
  private readonly states = new Map<string, AliasState>();
  private readonly openStates = new Map<string, AliasState>();
  private readonly openings = new Map<string, SortedList<Opening>>();
  private readonly storms = new Map<string, SortedList<Opening>>();
  private readonly stormBooks = new Map<string, StormBook>();
  private inhibit: InhibitIndex | null = null;
  /** Index entries looked at by the queries so far. */
  visited = 0;

  get size(): number {
    return this.states.size;
  }

  get(alias: string): AliasState | undefined {
    return this.states.get(alias);
  }

  values(): IterableIterator<AliasState> {
    return this.states.values();
  }

  set(state: AliasState): void {
    this.delete(state.alias);
    this.states.set(state.alias, state);
    if (isOpen(state)) {
      this.openStates.set(state.alias, state);
      this.inhibit?.add(state);
    }
    const channel = targetChannel(state);
    if (channel !== undefined) listOf(this.openings, channel, byMs).insert(opening(state));
    if (state.storm && state.storm.channel === channel) {
      listOf(this.storms, channel, byStorm).insert(opening(state));
      let book = this.stormBooks.get(state.storm.id);
      if (!book) {
        book = { members: new SortedList(byOpened), open: 0, paged: 0, pagedOpen: 0, firstResolvedMs: Number.POSITIVE_INFINITY };
        this.stormBooks.set(state.storm.id, book);
      }
      book.members.insert(state);
      if (isOpen(state)) book.open += 1;
      if (isGroupedPage(state)) {
        book.paged += 1;
        if (isOpen(state)) book.pagedOpen += 1;
      }
      else if (state.resolvedAt !== undefined) book.firstResolvedMs = Math.min(book.firstResolvedMs, Date.parse(state.resolvedAt));
    }
  }

  delete(alias: string): void {
    const old = this.states.get(alias);
    if (!old) return;
    this.states.delete(alias);
    if (this.openStates.delete(alias)) this.inhibit?.remove(old);
    const channel = targetChannel(old);
    if (channel !== undefined) this.openings.get(channel)?.remove(opening(old));
    if (old.storm && old.storm.channel === channel) {
      this.storms.get(channel)?.remove(opening(old));
      const book = this.stormBooks.get(old.storm.id);
      if (book) {
        book.members.remove(old);
        if (isOpen(old)) book.open -= 1;
        if (isGroupedPage(old)) {
          book.paged -= 1;
          if (isOpen(old)) book.pagedOpen -= 1;
        }
        if (book.members.size === 0) this.stormBooks.delete(old.storm.id);
      }
    }
  }

  open(): Iterable<AliasState> {
    return this.openStates.values();
  }

  inhibitor(rules: CompiledRules, i: number, alias: string, labels: Readonly<Record<string, string>>, inputIsSource: boolean): AliasState | undefined {
    // Built on first use for these rules (compiled rules are frozen, so a reload is a new array): once per reload.
    if (this.inhibit?.rules !== rules.inhibit) this.inhibit = new InhibitIndex(rules.inhibit, this.openStates.values());
    const bucket = this.inhibit.bucket(i, labels);
    if (!bucket) return undefined;
    let best = this.earliestOther(bucket.sourceOnly, alias);
    if (!inputIsSource) {
      const both = this.earliestOther(bucket.both, alias);
      if (both && (!best || byOpened(both, best) < 0)) best = both;
    }
    return best;
  }

  private earliestOther(list: SortedList<AliasState>, alias: string): AliasState | undefined {
    for (let i = 0; i < 2; i++) {
      const s = list.at(i);
      if (s === undefined) return undefined;
      this.visited += 1;
      if (s.alias !== alias) return s;
    }
    return undefined;
  }

  stormWindow(channel: string, alias: string, fromMs: number, toMs: number, at: At): StormWindow {
    const list = this.openings.get(channel);
    if (!list) return { recent: 0 };
    // A state opened inside the window has not expired unless retention is shorter than the window.
    if (at.retentionMs !== undefined && at.retentionMs < toMs - fromMs) return this.scanStormWindow(channel, alias, fromMs, toMs, at);
    let recent = list.firstIndex((o) => o.ms > toMs) - list.firstIndex((o) => o.ms > fromMs);
    this.visited += 1;
    const own = this.states.get(alias);
    if (own && targetChannel(own) === channel) {
      const ms = Date.parse(own.openedAt);
      if (ms > fromMs && ms <= toMs) recent -= 1;
    }
    const storms = this.storms.get(channel);
    let last = storms?.at(-1);
    let before = storms?.at(-2);
    this.visited += 2;
    if (last?.s.alias === alias) [last, before] = [before, undefined];
    if (!last) return { recent };
    // The newest storm's newest member decides; an expired one (long ago) is left to the full scan.
    if (!liveState(last.s, at.atMs, at.retentionMs)) return this.scanStormWindow(channel, alias, fromMs, toMs, at);
    return { recent, latest: { since: last.s.storm!.since, lastOpenedMs: last.ms } };
  }

  /** The same answer by walking every incident of the channel: for retention shorter than a storm window. */
  private scanStormWindow(channel: string, alias: string, fromMs: number, toMs: number, at: At): StormWindow {
    let recent = 0;
    let latest: StormWindow['latest'];
    for (const { ms, s } of this.openings.get(channel) ?? []) {
      this.visited += 1;
      if (s.alias === alias || !liveState(s, at.atMs, at.retentionMs)) continue;
      if (ms > fromMs && ms <= toMs) recent += 1;
      if (s.storm && s.storm.channel === channel) {
        if (!latest || s.storm.since > latest.since) latest = { since: s.storm.since, lastOpenedMs: ms };
        else if (s.storm.since === latest.since && ms > latest.lastOpenedMs) latest.lastOpenedMs = ms;
      }
    }
    return latest ? { recent, latest } : { recent };
  }

  stormMembers(id: string, _channel: string, at: At): StormMembers {
    const book = this.stormBooks.get(id);
    if (!book) return { total: 0, open: 0, members: [], paged: 0, pagedOpen: 0 };
    const count = () => (this.visited += 1);
    if (at.retentionMs === undefined || book.firstResolvedMs + at.retentionMs > at.atMs) {
      return { total: book.members.size, open: book.open, members: counted(book.members, count), paged: book.paged, pagedOpen: book.pagedOpen };
    }
    // Some member may have expired: leave those out, as a decision at this time does not see them.
    const live = [...book.members].filter((s) => (count(), liveState(s, at.atMs, at.retentionMs)));
    const paged = live.filter(isGroupedPage);
    return { total: live.length, open: live.filter(isOpen).length, members: live, paged: paged.length, pagedOpen: paged.filter(isOpen).length };
  }
}

function* counted<T>(items: Iterable<T>, onEach: () => void): Iterable<T> {
  for (const x of items) {
    onEach();
    yield x;
  }
}

function listOf<T>(m: Map<string, SortedList<T>>, key: string, cmp: (a: T, b: T) => number): SortedList<T> {
  let list = m.get(key);
  if (!list) m.set(key, (list = new SortedList(cmp)));
  return list;
}
