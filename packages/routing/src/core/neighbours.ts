import { matchesAll, type AliasState } from '@alertbus/schemas';
import type { CompiledInhibitRule, CompiledRules } from '../rules/types';
import { liveState } from './expiry';
import { own } from './own';
import { isIncidentState, type RouterState } from '../state';
import { instantMs, packState, unpackState, type PackedState } from './packed-state';
import { records, resized } from './packed-store';
import { SortedList } from './sorted-list';
import { inhibitorLabels, isSuppressedFiring, type Inhibitor, type SuppressedFiring } from './suppressed-firing';

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
  /** When the summary last changed before this decision, by event time: the latest member opened or resolved. */
  lastChangeMs?: number;
}

/**
 * What a decision may know about other aliases, as questions answered from indexes, so that a decision costs
 * the same however many incidents are open or were opened in a channel.
 */
export interface Neighbours {
  get(alias: string): AliasState | undefined;
  /**
   * The earliest opened open incident or suppressed firing (see SuppressedFiring; an expired one at `at` does not count)
   * of another alias matching the source side of `rules.inhibit[i]` with the same `equal` labels as `labels`; when
   * `inputIsSource`, one matching the target side too does not count.
   */
  inhibitor(rules: CompiledRules, i: number, alias: string, labels: Readonly<Record<string, string>>, inputIsSource: boolean, at?: At): Inhibitor | undefined;
  /** Incidents of other aliases meant for `channel` opened in (fromMs, toMs], and the channel's latest storm. */
  stormWindow(channel: string, alias: string, fromMs: number, toMs: number, at: At): StormWindow;
  /** The incidents gathered into storm `id` of `channel`. */
  stormMembers(id: string, channel: string, at: At): StormMembers;
  /**
   * Those of them opened after `afterMs`, oldest first, found without reading the others: what a Close of the storm's
   * pager alert at `afterMs` did not reach (alerts.ts, stormPageAfterClose). Without it, stormMembers is read through.
   */
  stormMembersOpenedAfter?(id: string, channel: string, afterMs: number, at: At): Iterable<AliasState>;
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
export const incidentLabels = (s: AliasState): Record<string, string> => inhibitorLabels(s);

/** Opened earlier, ties by alias: the order inhibitors are chosen in and storm summaries list their members in. */
export const byOpened = (a: AliasState, b: AliasState): number =>
  a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0;

/**
 * What the index keeps of an incident: the id of its record (alias and packed state, core/packed-store), the same in
 * every list the incident belongs to; what its orderings compare is in the index's arrays by that id (see `Fields`),
 * and the state itself is unpacked when a question needs it.
 */
type Entry = number;

/**
 * Flags of an entry: openedAt is `ms` in ISO form (so ordering by `ms` orders by openedAt); it has a resolvedAt; the
 * index holds the record (what finds an alias's entry among the arena's records of that key).
 */
const CANONICAL = 1;
const RESOLVED = 2;
const HELD = 4;
/** The record is a suppressed firing's (an inhibitor only): `ms` is its `since`, `resolvedMs` its latest firing (`at`). */
const SOURCE = 8;

/**
 * By record id: Date.parse(openedAt); Date.parse(resolvedAt) when it has one (see `changedMs`); the flags above;
 * storm.since's number in `sinces`, or -1 when the incident is not gathered into a storm of the channel it was meant
 * for. Typed arrays: an object per incident cost 88 bytes more.
 */
class Fields {
  ms = new Float64Array(1024);
  resolvedMs = new Float64Array(1024);
  flags = new Uint8Array(1024);
  since = new Int32Array(1024);
  readonly sinces: string[] = [];
  private readonly sinceIds = new Map<string, number>();

  set(e: Entry, ms: number, resolvedMs: number | undefined, canonical: boolean, since: string | undefined): void {
    if (e >= this.ms.length) this.grow(e);
    this.ms[e] = ms;
    this.resolvedMs[e] = resolvedMs ?? 0;
    this.flags[e] = HELD | (canonical ? CANONICAL : 0) | (resolvedMs !== undefined ? RESOLVED : 0);
    if (since === undefined) this.since[e] = -1;
    else {
      let id = this.sinceIds.get(since);
      if (id === undefined) this.sinceIds.set(since, (id = this.sinces.push(since) - 1));
      this.since[e] = id;
    }
  }

  setSource(e: Entry, sinceMs: number, atMs: number, canonical: boolean): void {
    if (e >= this.ms.length) this.grow(e);
    this.ms[e] = sinceMs;
    this.resolvedMs[e] = atMs;
    this.flags[e] = SOURCE | (canonical ? CANONICAL : 0);
    this.since[e] = -1;
  }

  held(e: number): boolean {
    return e < this.flags.length && (this.flags[e]! & HELD) !== 0;
  }

  isSource(e: number): boolean {
    return e < this.flags.length && (this.flags[e]! & SOURCE) !== 0;
  }

  *heldIds(): IterableIterator<Entry> {
    for (let e = 0; e < this.flags.length; e++) if (this.flags[e]! & HELD) yield e;
  }

  *sourceIds(): IterableIterator<Entry> {
    for (let e = 0; e < this.flags.length; e++) if (this.flags[e]! & SOURCE) yield e;
  }

  sinceOf(e: Entry): string | undefined {
    const id = this.since[e]!;
    return id < 0 ? undefined : this.sinces[id];
  }

  get footprint(): number {
    return this.ms.byteLength + this.resolvedMs.byteLength + this.flags.byteLength + this.since.byteLength;
  }

  private grow(e: Entry): void {
    let n = this.ms.length;
    while (n <= e) n *= 2;
    this.resize(n);
  }

  /** Room for `n` ids: smaller only when no id held is at or above it. */
  resize(n: number): void {
    this.ms = resized(this.ms, n);
    this.resolvedMs = resized(this.resolvedMs, n);
    this.flags = resized(this.flags, n);
    this.since = resized(this.since, n);
  }
}

/** An index dropped with records held (the processor's, replaced when it restores its state) gives them back. */
const unreferenced = new FinalizationRegistry((fields: Fields) => {
  for (const e of fields.heldIds()) records.release(e);
  for (const e of fields.sourceIds()) records.release(e);
});

const byAlias = (a: Entry, b: Entry) => records.compareKeys(a, b);
const openedAtOf = (e: Entry): string => {
  const s = unpackState<AliasState | SuppressedFiring>(records.state(e), records.key(e));
  return 'kind' in s ? s.since : s.openedAt;
};

interface StormBook {
  channel: string;
  since: string;
  members: SortedList<Entry>;
  /**
   * The latest time a member changed the summary (opened or resolved), and how many members hold it, kept exact as
   * members come and go: when the last member holding it leaves (its state replaced by one of an earlier time, moved to
   * another storm, or expired), `lastStale` says so and the next question finds it again among the members. A list of
   * members by change time did the same, at the cost of an entry per member and a removal and insertion at each resolve.
   */
  lastChangeMs: number;
  atLastChange: number;
  lastStale: boolean;
  open: number;
  /** Members paging through the storm's pager alert, and how many of them are open. */
  paged: number;
  pagedOpen: number;
  /** No member was resolved before this (a lower bound): until it expires, no member has. */
  firstResolvedMs: number;
}

type InhibitBucket = { both: SortedList<Entry>; sourceOnly: SortedList<Entry> };
type Compare = (a: Entry, b: Entry) => number;
/** The `equal` labels' values as one key, each preceded by its length (so no two lists give the same key). */
export function equalKey(rule: CompiledInhibitRule, labels: Readonly<Record<string, string>>): string {
  let key = '';
  for (const n of rule.equal) {
    const v = own(labels, n) ?? '';
    key += `${v.length}:${v}`;
  }
  return key;
}

/** The open incidents and suppressed firings matching each inhibit rule's source side, by their `equal` labels, earliest first. */
class InhibitIndex {
  private readonly byRule: Array<Map<string, InhibitBucket>>;

  constructor(
    readonly rules: readonly CompiledInhibitRule[],
    open: Iterable<[Inhibitor, Entry]>,
    private readonly byOpenedEntry: Compare,
  ) {
    this.byRule = rules.map(() => new Map());
    for (const [s, e] of open) this.add(s, e);
  }

  add(s: Inhibitor, e: Entry): void {
    this.each(s, (list) => list.insert(e), true);
  }

  remove(s: Inhibitor, e: Entry): void {
    this.each(s, (list) => list.remove(e), false);
  }

  private each(s: Inhibitor, f: (list: SortedList<Entry>) => void, create: boolean): void {
    // A firing kept while inhibited inhibits nothing (see decideAlert).
    if ('kind' in s && s.reason === 'inhibited') return;
    const sl = inhibitorLabels(s);
    this.rules.forEach((rule, i) => {
      if (!matchesAll(rule.source, sl)) return;
      const key = equalKey(rule, sl);
      let bucket = this.byRule[i]!.get(key);
      if (!bucket) {
        if (!create) return;
        this.byRule[i]!.set(key, (bucket = { both: new SortedList(this.byOpenedEntry), sourceOnly: new SortedList(this.byOpenedEntry) }));
      }
      f(matchesAll(rule.target, sl) ? bucket.both : bucket.sourceOnly);
    });
  }

  bucket(i: number, labels: Readonly<Record<string, string>>): InhibitBucket | undefined {
    return this.byRule[i]!.get(equalKey(this.rules[i]!, labels));
  }
}

/** Unpacked states kept for the aliases read last (storm summaries read the same oldest members again and again). */
const UNPACKED_MAX = 256;

/**
 * Alias states indexed for the questions decisions ask about other aliases: openings per channel in time
 * order (storm windows), storms per channel and their members, and open incidents per inhibit rule and
 * `equal` labels. Every answer is a few binary searches and a bounded walk; `visited` counts the entries
 * looked at, so tests can tell that it stays bounded. States are held packed (core/packed-state): an index
 * over a million open incidents stays a few hundred bytes per incident.
 */
export class StateIndex implements Neighbours {
  /** By record id, the incidents' records among them (`HELD`): found by alias through the arena's table of keys. */
  private readonly fields = new Fields();
  /** `id(alias)`: the record the index holds for `alias` (among the arena's records of that key), or -1. */
  private readonly entries = {
    id: (alias: string): Entry => {
      if (alias === this.foundAlias) return this.foundId;
      this.foundAlias = alias;
      return (this.foundId = records.find(alias, this.isHeld));
    },
  };
  /**
   * The alias found last and its record (or -1): a decision looks its own alias up several times (its state, its storm
   * window, to unindex it). Only `set` and `delete` change what an alias finds, and both update it.
   */
  private foundAlias: string | undefined;
  private foundId: Entry = -1;
  private readonly isHeld = (e: number): boolean => this.fields.held(e);
  private readonly isSource = (e: number): boolean => this.fields.isSource(e);
  private count = 0;
  private sourceCount = 0;
  /** By entry: an entry leaves it when it leaves the index (`delete`), so an id its record's release frees is never found here. */
  private readonly unpacked = new Map<Entry, AliasState | SuppressedFiring>();
  private readonly openings = new Map<string, SortedList<Entry>>();
  private readonly storms = new Map<string, SortedList<Entry>>();
  private readonly stormBooks = new Map<string, StormBook>();
  private inhibit: InhibitIndex | null = null;
  /**
   * The state last read by alias, and its entry: a decision reads its own alias's state up to four times (as the state
   * it decides on, for its storm window, for its storm's members, and to unindex it when the new one is held). Only
   * the last one, so nothing is held past the next decision.
   */
  private last: { e: Entry; state: AliasState } | undefined;
  /** Index entries looked at by the queries so far. */
  visited = 0;
  /** Counts one more entry looked at: made once (a storm's members are counted as they are read). */
  private readonly countVisit = (): void => {
    this.visited += 1;
  };

  /** When it last changed how a storm summary shows it: resolved, else opened. */
  private readonly changedMs = (e: Entry): number => (this.fields.flags[e]! & RESOLVED ? this.fields.resolvedMs[e]! : this.fields.ms[e]!);
  private readonly byMs: Compare = (a, b) => this.fields.ms[a]! - this.fields.ms[b]! || byAlias(a, b);
  private readonly byStorm: Compare = (a, b) => {
    const x = this.fields.sinceOf(a)!;
    const y = this.fields.sinceOf(b)!;
    return x < y ? -1 : x > y ? 1 : this.byMs(a, b);
  };
  /** byOpened over entries: by `ms` when both openedAt are in ISO form, else by the strings themselves. */
  private readonly byOpenedEntry: Compare = (a, b) => {
    const { flags, ms } = this.fields;
    if (flags[a]! & flags[b]! & CANONICAL) return ms[a]! - ms[b]! || byAlias(a, b);
    const x = openedAtOf(a);
    const y = openedAtOf(b);
    return x < y ? -1 : x > y ? 1 : byAlias(a, b);
  };

  constructor() {
    unreferenced.register(this, this.fields);
  }

  /** Incidents held (suppressed firings are not: see `sources`). */
  get size(): number {
    return this.count;
  }

  /** Suppressed firings held (SuppressedFiring): inhibitors without an incident. */
  get sources(): number {
    return this.sourceCount;
  }

  get(alias: string): AliasState | undefined {
    const e = this.entries.id(alias);
    if (e < 0) return undefined;
    if (this.last?.e === e) return this.last.state;
    const state = this.stateOf(e);
    this.last = { e, state };
    return state;
  }

  /** The packed form of the alias's state, as `set` was given or made it. */
  packed(alias: string): PackedState | undefined {
    const e = this.entries.id(alias);
    return e < 0 ? undefined : records.state(e);
  }

  /** In no particular order. */
  *values(): IterableIterator<AliasState> {
    for (const e of this.fields.heldIds()) yield this.stateOf(e);
  }

  /**
   * How many times an inhibitor left the index (an open incident resolved or forgotten, a silenced or dropped firing
   * kept no more): a kept inhibited firing can be freed only after one did, so the inhibition-end ticker looks again
   * only then (and now and then all the same, for inhibitors that expired in place).
   */
  inhibitorsGone = 0;
  /** Set while `set`/`setSource` replace an alias's inhibitor with another: not one gone. */
  private replacingInhibitor = false;

  /** Holds `state` (replacing the alias's previous one); `packed` when the caller already packed it. */
  set(state: AliasState, packed: PackedState = packState(state, state.alias)): void {
    this.replacingInhibitor = isOpen(state);
    this.delete(state.alias);
    this.replacingInhibitor = false;
    const channel = targetChannel(state);
    const inStorm = state.storm !== undefined && state.storm.channel === channel;
    // In ISO form (as toISOString writes it, not before 1970) the instant is read by character codes: no Date.parse, no round trip.
    const iso = instantMs(state.openedAt);
    const ms = iso >= 0 ? iso : Date.parse(state.openedAt);
    const e: Entry = records.retain(state.alias, packed);
    this.foundAlias = state.alias;
    this.foundId = e;
    this.count += 1;
    this.fields.set(e, ms, state.resolvedAt !== undefined ? Date.parse(state.resolvedAt) : undefined, iso >= 0, inStorm ? state.storm!.since : undefined);
    const changed = this.changedMs(e);
    if (isOpen(state)) this.inhibit?.add(state, e);
    if (channel !== undefined) listOf(this.openings, channel, this.byMs).insert(e);
    if (inStorm) {
      listOf(this.storms, channel!, this.byStorm).insert(e);
      let book = this.stormBooks.get(state.storm!.id);
      if (!book) {
        book = { channel: channel!, since: state.storm!.since, members: new SortedList(this.byOpenedEntry), lastChangeMs: Number.NEGATIVE_INFINITY, atLastChange: 0, lastStale: false, open: 0, paged: 0, pagedOpen: 0, firstResolvedMs: Number.POSITIVE_INFINITY };
        this.stormBooks.set(state.storm!.id, book);
      }
      book.members.insert(e);
      if (changed > book.lastChangeMs) {
        book.lastChangeMs = changed;
        book.atLastChange = 1;
        book.lastStale = false;
      } else if (changed === book.lastChangeMs) {
        book.atLastChange += 1;
        book.lastStale = false;
      }
      if (isOpen(state)) book.open += 1;
      if (isGroupedPage(state)) {
        book.paged += 1;
        if (isOpen(state)) book.pagedOpen += 1;
      }
      // Every resolved member, paging through the storm's alert or not, may expire.
      if (state.resolvedAt !== undefined) book.firstResolvedMs = Math.min(book.firstResolvedMs, Date.parse(state.resolvedAt));
    }
  }

  delete(alias: string): void {
    const e = this.entries.id(alias);
    if (e < 0) return;
    const old = this.last?.e === e ? this.last.state : this.stateOf(e);
    // The entry's id may be given to another record once this one is released.
    if (this.last?.e === e) this.last = undefined;
    this.unpacked.delete(e);
    if (isOpen(old)) {
      this.inhibit?.remove(old, e);
      if (!this.replacingInhibitor) this.inhibitorsGone += 1;
    }
    const channel = targetChannel(old);
    if (channel !== undefined) this.openings.get(channel)?.remove(e);
    if (old.storm && old.storm.channel === channel) {
      this.storms.get(channel)?.remove(e);
      const book = this.stormBooks.get(old.storm.id);
      if (book) {
        book.members.remove(e);
        if (this.changedMs(e) === book.lastChangeMs && --book.atLastChange === 0) book.lastStale = true;
        if (isOpen(old)) book.open -= 1;
        if (isGroupedPage(old)) {
          book.paged -= 1;
          if (isOpen(old)) book.pagedOpen -= 1;
        }
        if (book.members.size === 0) this.stormBooks.delete(old.storm.id);
      }
    }
    // Last: the lists above found the entry by what its record holds.
    this.fields.flags[e] = 0;
    this.foundAlias = alias;
    this.foundId = -1;
    this.count -= 1;
    records.release(e);
    // Every record id is below the arena's id capacity: after many were released, these arrays shrink with its.
    if (this.fields.ms.length > records.idCapacity) this.fields.resize(records.idCapacity);
  }

  /**
   * Holds what an alias's state says about it: an incident; a suppressed firing as an inhibitor, with the resolved
   * incident it keeps (`previous`) as the alias's incident; anything else (a kept resolve, a Slack record, nothing) as
   * neither. `packed` when the caller already packed `state`.
   */
  put(key: string, state: RouterState | undefined, packed?: PackedState): void {
    if (isIncidentState(state)) {
      this.set(state, packed);
      this.deleteSource(key);
    } else if (isSuppressedFiring(state)) {
      this.setSource(state, packed);
      if (isIncidentState(state.previous)) this.set(state.previous);
      else this.delete(key);
    } else {
      this.delete(key);
      this.deleteSource(key);
    }
  }

  source(alias: string): SuppressedFiring | undefined {
    const e = this.sourceId(alias);
    return e < 0 ? undefined : this.sourceOf(e);
  }

  /** The packed form of the alias's suppressed firing, as `setSource` was given or made it. */
  packedSource(alias: string): PackedState | undefined {
    const e = this.sourceId(alias);
    return e < 0 ? undefined : records.state(e);
  }

  /** Nearly always none held: then no look-up of the alias at all (every decision asks, to replace its alias's). */
  private sourceId(alias: string): Entry {
    return this.sourceCount === 0 ? -1 : records.find(alias, this.isSource);
  }

  /** In no particular order. */
  *suppressedFirings(): IterableIterator<SuppressedFiring> {
    for (const e of this.fields.sourceIds()) yield this.sourceOf(e);
  }

  /** Holds a suppressed firing as an inhibitor (replacing the alias's previous one); the alias's incident is left as it is. */
  setSource(state: SuppressedFiring, packed: PackedState = packState(state, state.key)): void {
    this.replacingInhibitor = state.reason !== 'inhibited';
    this.deleteSource(state.key);
    this.replacingInhibitor = false;
    const iso = instantMs(state.since);
    const e: Entry = records.retain(state.key, packed);
    this.sourceCount += 1;
    this.fields.setSource(e, iso >= 0 ? iso : Date.parse(state.since), Date.parse(state.at), iso >= 0);
    this.inhibit?.add(state, e);
  }

  deleteSource(alias: string): void {
    const e = this.sourceId(alias);
    if (e < 0) return;
    const old = this.sourceOf(e);
    this.inhibit?.remove(old, e);
    if (old.reason !== 'inhibited' && !this.replacingInhibitor) this.inhibitorsGone += 1;
    this.unpacked.delete(e);
    this.fields.flags[e] = 0;
    this.sourceCount -= 1;
    records.release(e);
    if (this.fields.ms.length > records.idCapacity) this.fields.resize(records.idCapacity);
  }

  private sourceOf(e: Entry): SuppressedFiring {
    return (this.unpacked.get(e) as SuppressedFiring | undefined) ?? unpackState<SuppressedFiring>(records.state(e), records.key(e));
  }

  /** Bytes of the index's own arrays: the fields by record id. */
  get footprint(): number {
    return this.fields.footprint;
  }

  *open(): IterableIterator<AliasState> {
    for (const [s] of this.openPairs()) yield s;
  }

  private *openPairs(): IterableIterator<[AliasState, Entry]> {
    for (const e of this.fields.heldIds()) {
      const s = this.stateOf(e);
      if (isOpen(s)) yield [s, e];
    }
  }

  /** Every inhibitor: the open incidents and the suppressed firings. */
  private *inhibitorPairs(): IterableIterator<[Inhibitor, Entry]> {
    yield* this.openPairs();
    for (const e of this.fields.sourceIds()) yield [this.sourceOf(e), e];
  }

  /** The entry's state: the one kept if it was read again lately (see `readAgain`), else unpacked for this question only. */
  private stateOf(e: Entry): AliasState {
    return (this.unpacked.get(e) as AliasState | undefined) ?? unpackState<AliasState>(records.state(e), records.key(e));
  }

  /**
   * The entry's state, kept among the last UNPACKED_MAX read this way: for what the next decisions read again (a
   * storm's oldest members, an inhibitor). Only those: keeping every state a decision looks at (the one just set,
   * the newest in a storm) would hold each for hundreds of decisions, long enough to be promoted out of the young
   * generation and die among the packed states, which fragments the old space (bench/router-memory.ts).
   */
  private readAgain(e: Entry): AliasState {
    const held = this.unpacked.get(e) as AliasState | undefined;
    if (held) return held;
    return this.keepUnpacked(e, unpackState<AliasState>(records.state(e), records.key(e)));
  }

  private keepUnpacked<S extends AliasState | SuppressedFiring>(e: Entry, state: S): S {
    if (this.unpacked.size >= UNPACKED_MAX) this.unpacked.delete(this.unpacked.keys().next().value!);
    this.unpacked.set(e, state);
    return state;
  }

  inhibitor(rules: CompiledRules, i: number, alias: string, labels: Readonly<Record<string, string>>, inputIsSource: boolean, at?: At): Inhibitor | undefined {
    // Built on first use for these rules (compiled rules are frozen, so a reload is a new array): once per reload.
    if (this.inhibit?.rules !== rules.inhibit) this.inhibit = new InhibitIndex(rules.inhibit, this.inhibitorPairs(), this.byOpenedEntry);
    const bucket = this.inhibit.bucket(i, labels);
    if (!bucket) return undefined;
    let best = this.earliestOther(bucket.sourceOnly, alias, at);
    if (!inputIsSource) {
      const both = this.earliestOther(bucket.both, alias, at);
      if (both !== undefined && (best === undefined || this.byOpenedEntry(both, best) < 0)) best = both;
    }
    if (best === undefined) return undefined;
    if (!this.fields.isSource(best)) return this.readAgain(best);
    return (this.unpacked.get(best) as SuppressedFiring | undefined) ?? this.keepUnpacked(best, this.sourceOf(best));
  }

  /**
   * The list's earliest entry of another alias, passing over suppressed firings expired at `at` (their latest firing
   * longer than retention ago): those are evicted within EVICTION_GRACE_MS, so few are ever passed.
   */
  private earliestOther(list: SortedList<Entry>, alias: string, at: At | undefined): Entry | undefined {
    const { flags, resolvedMs } = this.fields;
    for (let i = 0; ; i++) {
      const e = list.at(i);
      if (e === undefined) return undefined;
      this.visited += 1;
      if (records.keyEquals(e, alias)) continue;
      if (flags[e]! & SOURCE && at?.retentionMs !== undefined && resolvedMs[e]! + at.retentionMs <= at.atMs) continue;
      return e;
    }
  }

  stormWindow(channel: string, alias: string, fromMs: number, toMs: number, at: At): StormWindow {
    const list = this.openings.get(channel);
    if (!list) return { recent: 0 };
    // A state opened inside the window has not expired unless retention is shorter than the window.
    if (at.retentionMs !== undefined && at.retentionMs < toMs - fromMs) return this.scanStormWindow(channel, alias, fromMs, toMs, at);
    const { ms } = this.fields;
    let recent = list.firstIndex((o) => ms[o]! > toMs) - list.firstIndex((o) => ms[o]! > fromMs);
    this.visited += 1;
    const own = this.get(alias);
    if (own && targetChannel(own) === channel) {
      const opened = Date.parse(own.openedAt);
      if (opened > fromMs && opened <= toMs) recent -= 1;
    }
    const storms = this.storms.get(channel);
    let last = storms?.at(-1);
    let before = storms?.at(-2);
    this.visited += 2;
    if (last !== undefined && records.keyEquals(last, alias)) [last, before] = [before, undefined];
    if (last === undefined) return { recent };
    // The newest storm's newest member decides; an expired one (long ago) is left to the full scan.
    if (!this.isLive(last, at)) return this.scanStormWindow(channel, alias, fromMs, toMs, at);
    return { recent, latest: { since: this.fields.sinceOf(last)!, lastOpenedMs: ms[last]! } };
  }

  /**
   * Whether a decision at `at` still sees the entry's incident (liveState): only one with a resolvedAt can have
   * expired, so only that one is unpacked to tell (a storm's newest member, asked about at every decision in its
   * channel, is nearly always open).
   */
  private isLive(e: Entry, at: At): boolean {
    if (at.retentionMs === undefined || !(this.fields.flags[e]! & RESOLVED)) return true;
    return liveState(this.stateOf(e), at.atMs, at.retentionMs) !== undefined;
  }

  /** The same answer by walking every incident of the channel: for retention shorter than a storm window. */
  private scanStormWindow(channel: string, alias: string, fromMs: number, toMs: number, at: At): StormWindow {
    let recent = 0;
    let latest: StormWindow['latest'];
    for (const e of this.openings.get(channel) ?? []) {
      this.visited += 1;
      if (records.keyEquals(e, alias) || !this.isLive(e, at)) continue;
      const ms = this.fields.ms[e]!;
      const since = this.fields.sinceOf(e);
      if (ms > fromMs && ms <= toMs) recent += 1;
      if (since !== undefined) {
        if (!latest || since > latest.since) latest = { since, lastOpenedMs: ms };
        else if (since === latest.since && ms > latest.lastOpenedMs) latest.lastOpenedMs = ms;
      }
    }
    return latest ? { recent, latest } : { recent };
  }

  stormMembers(id: string, _channel: string, at: At): StormMembers {
    const book = this.stormBooks.get(id);
    if (!book) return { total: 0, open: 0, members: [], paged: 0, pagedOpen: 0 };
    const count = this.countVisit;
    if (at.retentionMs === undefined || book.firstResolvedMs + at.retentionMs > at.atMs) {
      if (book.lastStale) {
        // The member that changed last left: the latest change is now an earlier one, found among those left.
        book.lastChangeMs = Number.NEGATIVE_INFINITY;
        book.atLastChange = 0;
        for (const m of book.members) {
          const changed = this.changedMs(m);
          if (changed > book.lastChangeMs) {
            book.lastChangeMs = changed;
            book.atLastChange = 1;
          } else if (changed === book.lastChangeMs) book.atLastChange += 1;
        }
        book.lastStale = false;
      }
      count();
      return {
        total: book.members.size,
        open: book.open,
        members: this.unpackedAll(book.members, count),
        paged: book.paged,
        pagedOpen: book.pagedOpen,
        lastChangeMs: book.lastChangeMs,
      };
    }
    // Some member may have expired: leave those out, as a decision at this time does not see them.
    const live = [...this.unpackedAll(book.members, count)].filter((s) => liveState(s, at.atMs, at.retentionMs));
    const paged = live.filter(isGroupedPage);
    const lastChangeMs = live.reduce<number | undefined>((m, s) => Math.max(m ?? Number.NEGATIVE_INFINITY, Date.parse(s.resolvedAt ?? s.openedAt)), undefined);
    return {
      total: live.length,
      open: live.filter(isOpen).length,
      members: live,
      paged: paged.length,
      pagedOpen: paged.filter(isOpen).length,
      ...(lastChangeMs !== undefined ? { lastChangeMs } : {}),
    };
  }

  *stormMembersOpenedAfter(id: string, _channel: string, afterMs: number, at: At): IterableIterator<AliasState> {
    const book = this.stormBooks.get(id);
    if (!book) return;
    // Members are in openedAt order, which `ms` (openedAt's number) keeps: a binary search, then only the later ones.
    const { members } = book;
    const ms = this.fields.ms;
    for (let i = members.firstIndex((e) => ms[e]! > afterMs); i < members.size; i++) {
      const s = this.readAgain(members.at(i)!);
      if (liveState(s, at.atMs, at.retentionMs)) yield s;
    }
  }

  /** Every storm with a member held, as its summary is named (what the router's ticker looks through). */
  *stormSummaries(): IterableIterator<{ id: string; channel: string; since: string }> {
    for (const [id, book] of this.stormBooks) yield { id, channel: book.channel, since: book.since };
  }

  private *unpackedAll(entries: Iterable<Entry>, onEach: () => void): Iterable<AliasState> {
    for (const e of entries) {
      onEach();
      yield this.readAgain(e);
    }
  }
}

function listOf<T extends number>(m: Map<string, SortedList<T>>, key: string, cmp: (a: T, b: T) => number): SortedList<T> {
  let list = m.get(key);
  if (!list) m.set(key, (list = new SortedList(cmp)));
  return list;
}
