import { parseDuration, type AliasState, type DecisionReason, type Envelope, type KeptFiring, type PagerPriority, type RuleRef, type SharedFactsSeen, type SuppressedBy } from '@alertbus/schemas';
import { matchLabels, route } from '../rules/route';
import type { CompiledRules, RoutableAlert, Route } from '../rules/types';
import type { DecisionContext } from './context';
import { keptResolveOf, withChanges, type DeciderState, type ResolvedAlias } from './evolve';
import { findInhibition } from './inhibit';
import { NO_NEIGHBOURS, type At, type Neighbours, type StormMembers } from './neighbours';
import { Outputs } from './outputs';
import { pagerDescription, pagerDetails, pagerMessage, pagerTags } from './pager';
import { closeOwnPage, linkPagerAlias, RESOLVED_NOTE } from './pager-links';
import { incidentView, renderRoot, repeatReplyText, resolvedReplyText } from './render';
import { stormFor, stormLimitsFor, stormMembers, stormOf, updatesSummary, type Storm } from './storm';
import { renderStormSummary, stormMemberAcknowledgedNote, stormPageClosedNote, stormPageDescription, stormPageMessage, stormPageNote } from './storm-render';
import { incidentFacts } from './incident-facts';
import { incidentIdOf } from './incident-id';
import { inhibitionBy, mayInhibit, whatItSays, type SuppressedFiring } from './suppressed-firing';

type AlertInput = Envelope<'AlertReceived'>;

export type { ResolvedAlias } from './evolve';

/** The state after the incident events emitted so far. */
const folded = (out: Outputs, state: DeciderState) => out.folded(state);

const pagerAliasOf = (s: AliasState) => s.pagerAlias ?? s.alias;

/** A storm's window in ms, as its members' states name it: a handful of distinct windows, each parsed once (a regex walk per resolve otherwise). */
const windows = new Map<string, number>();
function windowMsOf(window: string): number {
  let ms = windows.get(window);
  if (ms === undefined) {
    if (windows.size >= 256) windows.clear();
    ms = parseDuration(window) ?? 0;
    windows.set(window, ms);
  }
  return ms;
}

/**
 * An input that opens, changes and notifies nothing, with why. `kept` says what a silenced or dropped firing leaves on
 * its alias as an inhibitor; `endsAt`, the sender's end a resolve that closes nothing leaves on it (evolve,
 * keptResolveOf), so the state stays the fold of the events.
 */
function suppress(
  out: Outputs,
  input: AlertInput,
  reason: DecisionReason,
  rule: RuleRef,
  state: DeciderState,
  extra: { suppressedBy?: SuppressedBy; shared?: SharedFactsSeen | undefined; kept?: KeptFiring | false | undefined; endsAt?: string | undefined } = {},
): void {
  const { suppressedBy, shared, kept, endsAt } = extra;
  out.add('EventSuppressed', {
    inputId: input.id,
    inputType: input.type,
    reason,
    rule,
    ...(state ? { incidentId: state.incidentId } : {}),
    title: input.data.title,
    ...(suppressedBy ? { suppressedBy } : {}),
    ...(shared ? { shared } : {}),
    ...(kept !== undefined ? { kept } : {}),
    ...(endsAt !== undefined ? { endsAt } : {}),
  });
}

/**
 * Posts the storm summary for its first incident, and replaces it in place for every change while the storm has
 * gathered at most 100 incidents; beyond that for the first change in each second of event time, every 50 joins or
 * resolves, and when its last open incident resolves (updatesSummary); returns the counts.
 */
function summarise(out: Outputs, storm: Storm, rule: RuleRef, neighbours: Neighbours, current: AliasState, at: At): StormMembers {
  const members = stormMembers(neighbours, storm, current, at);
  // The storm's first member: it is the only one, and it is the incident just opened.
  if (members.total === 1 && current.storm?.id === storm.id && current.status !== 'resolved') {
    out.add('PostSlackMessage', { incidentId: storm.id, rule, channel: storm.channel, purpose: 'root', ...renderStormSummary(storm, members) }, storm.alias);
  } else if (updatesSummary(members, at.atMs, current.status === 'resolved')) {
    out.add('UpdateSlackMessage', { incidentId: storm.id, rule, ...renderStormSummary(storm, members) }, storm.alias);
  }
  return members;
}

/** Whether an incident a storm gathers pages through the storm's one pager alert: the rule's `pager.storm`, else the storm control's. */
const pagesGrouped = (r: Route, storm: Storm | undefined): boolean =>
  storm !== undefined && r.pager !== undefined && (r.pager.storm ?? storm.limits.pages ?? 'grouped') === 'grouped';

/**
 * The storm's one pager alert, keyed `storm:{channel}:{since}` like its summary: created when its first grouped
 * incident opens (or the first after all of them were resolved), noted each time their number doubles, so a storm
 * of n incidents costs about log2(n) pager calls.
 */
function pageStorm(out: Outputs, input: AlertInput, r: Route, storm: Storm, members: StormMembers, incidentId: string): void {
  if (members.pagedOpen === 1) {
    const a = input.data;
    createStormPage(out, r, storm, { title: a.title, labels: a.labels, source: a.source, alias: input.alias, incidentId }, r.pager!.priority);
  } else if (isPowerOfTwo(members.paged)) {
    out.add('AddPagerNote', { incidentId: storm.id, rule: r.rule, note: stormPageNote(storm, members, input.data.title) }, storm.alias);
  }
}

/** The storm's pager alert, made for `first`, the incident it is created for, with its route's pager settings. */
function createStormPage(
  out: Outputs,
  r: Route,
  storm: Storm,
  first: { title: string; labels: Readonly<Record<string, string>>; source: string; alias: string; incidentId: string },
  priority: PagerPriority,
): void {
  const pager = r.pager!;
  out.add(
    'CreatePagerAlert',
    {
      incidentId: storm.id,
      rule: r.rule,
      message: pagerMessage(stormPageMessage(storm, first.title)),
      description: stormPageDescription(storm),
      priority,
      tags: pagerTags([...pager.tags, 'alert-storm']),
      responders: [...pager.responders],
      details: pagerDetails(first.labels, {
        alertbus_storm: storm.id,
        alertbus_storm_channel: storm.channel,
        alertbus_storm_since: storm.since,
        alertbus_alias: first.alias,
        alertbus_incident: first.incidentId,
        alertbus_rule: r.rule.name ?? r.rule.path,
      }),
      source: `alertbus/${first.source}`,
    },
    storm.alias,
  );
}

const isPowerOfTwo = (n: number) => n > 1 && (n & (n - 1)) === 0;

const PRIORITY_RANK: Readonly<Record<PagerPriority, number>> = { P1: 1, P2: 2, P3: 3, P4: 4, P5: 5 };

/** How many of a storm's members are looked at for its page's priority: its first open grouped member is nearly always among the first. */
const PAGE_PRIORITY_LOOKS = 32;

/** The priority of the storm's open pager alert, from its first open grouped member seen (undefined: none open, or not found soon). */
function stormPagePriority(neighbours: Neighbours, storm: Storm, at: At): PagerPriority | undefined {
  let looked = 0;
  for (const m of neighbours.stormMembers(storm.id, storm.channel, at).members) {
    if (m.storm?.id === storm.id && m.storm.pageGrouped === true && m.status !== 'resolved') return m.storm.pagePriority;
    if (++looked >= PAGE_PRIORITY_LOOKS) break;
  }
  return undefined;
}

function open(
  out: Outputs,
  input: AlertInput,
  r: Route,
  previous: DeciderState,
  rules: CompiledRules,
  neighbours: Neighbours,
  at: At,
  shared: SharedFactsSeen | undefined,
): void {
  const a = input.data;
  const occurrence = previous ? previous.occurrence + 1 : 1;
  const incidentId = incidentIdOf(input.alias, occurrence, input.id);
  const storm = r.slackChannel !== undefined ? stormFor(rules, r.slackChannel, input.alias, input.recordedAt, neighbours, at.retentionMs) : undefined;
  let grouped = pagesGrouped(r, storm);
  let pagePriority: PagerPriority | undefined;
  if (grouped) {
    // A storm's page has the priority of its first grouped incident. One that outranks it (a critical among a storm of
    // warnings) pages on its own: grouped, a P1 became a note on a P3 alert, or nothing at all.
    const current = stormPagePriority(neighbours, storm!, at);
    if (current !== undefined && PRIORITY_RANK[r.pager!.priority] < PRIORITY_RANK[current]) grouped = false;
    else pagePriority = current ?? r.pager!.priority;
  }
  out.add(previous ? 'IncidentReopened' : 'IncidentOpened', {
    incidentId,
    occurrence,
    title: a.title,
    severity: a.severity,
    source: a.source,
    status: 'open',
    count: 1,
    reason: previous ? 'reopened' : 'first-notification',
    rule: r.rule,
    inputId: input.id,
    labels: a.labels,
    ...(a.description !== undefined ? { description: a.description } : {}),
    ...(a.values !== undefined ? { values: a.values } : {}),
    links: a.links,
    openedAt: input.recordedAt,
    ...(a.startsAt !== undefined ? { startsAt: a.startsAt } : {}),
    ...(r.slackChannel !== undefined && !storm
      ? { slack: { channel: r.slackChannel, ...(r.mentionOnCall !== undefined ? { mentionOnCall: r.mentionOnCall } : {}) } }
      : {}),
    ...(r.pager && !grouped ? { pager: { priority: r.pager.priority, ...(r.pager.alias !== undefined ? { alias: r.pager.alias } : {}) } } : {}),
    ...(previous ? { previousIncidentId: previous.incidentId } : {}),
    ...(shared ? { shared } : {}),
  });
  if (storm) {
    out.add('EventSuppressed', {
      inputId: input.id,
      inputType: input.type,
      reason: 'storm-control',
      rule: r.rule,
      incidentId,
      title: a.title,
      suppressedBy: {
        kind: 'storm',
        channel: storm.channel,
        summaryIncidentId: storm.id,
        since: storm.since,
        threshold: storm.limits.threshold,
        window: storm.limits.window,
        ...(grouped ? { pageGrouped: true, ...(pagePriority !== undefined ? { pagePriority } : {}) } : {}),
        ...(storm.recent !== undefined ? { recent: storm.recent } : {}),
      },
      ...(shared ? { shared } : {}),
    });
  }
  const opened = folded(out, previous)!;
  if (storm) {
    const members = summarise(out, storm, r.rule, neighbours, opened, at);
    if (grouped) pageStorm(out, input, r, storm, members, incidentId);
  } else if (r.slackChannel !== undefined) {
    out.add('PostSlackMessage', { incidentId, rule: r.rule, channel: r.slackChannel, purpose: 'root', ...renderRoot(incidentView(opened), r.mention, { historyUrl: rules.historyPublicUrl }) });
  }
  if (r.pager && !grouped) createPage(out, input, r, incidentId, occurrence, pagerAliasOf(opened));
}

/** The incident's own pager alert, from the alert as it is now and the route's pager settings. */
function createPage(out: Outputs, input: AlertInput, r: Route, incidentId: string, occurrence: number, alias: string): void {
  const a = input.data;
  const pager = r.pager!;
  out.add(
    'CreatePagerAlert',
    {
      incidentId,
      rule: r.rule,
      message: pagerMessage(a.title),
      description: pagerDescription(a),
      priority: pager.priority,
      tags: pagerTags(pager.tags),
      responders: [...pager.responders],
      details: pagerDetails(a.labels, {
        alertbus_alias: input.alias,
        alertbus_incident: incidentId,
        alertbus_occurrence: String(occurrence),
        alertbus_rule: r.rule.name ?? r.rule.path,
      }),
      source: `alertbus/${a.source}`,
    },
    alias,
  );
  // Paged under another alias (a templated pager.alias): the pager's acks and closes arrive keyed by that alias.
  if (alias !== input.alias) linkPagerAlias(out, alias, input.alias, incidentId);
}

/**
 * The priority the incident's own open page has, when its alert now routes to a higher one; else undefined. Not for a
 * page that is its storm's one alert (the storm's page stands for every member), nor a page of unknown priority.
 */
function raisesPage(r: Route, s: AliasState): PagerPriority | undefined {
  // A member paging through its storm's alert has no page of its own (`paged` false) until it outranks that alert.
  if (r.pager === undefined || !s.paged || s.priority === undefined) return undefined;
  return PRIORITY_RANK[r.pager.priority] < PRIORITY_RANK[s.priority] ? s.priority : undefined;
}

/** The open page raised to the rule's priority, with a note saying why, and a reply in the incident's thread. */
function raisePage(out: Outputs, r: Route, s: AliasState, from: PagerPriority): void {
  const to = r.pager!.priority;
  const alias = pagerAliasOf(s);
  out.add('UpdatePagerPriority', { incidentId: s.incidentId, rule: r.rule, priority: to, from }, alias);
  out.add('AddPagerNote', { incidentId: s.incidentId, rule: r.rule, note: pageRaisedText(from, to) }, alias);
  if (s.slackChannel !== undefined) {
    out.add('PostSlackMessage', { incidentId: s.incidentId, rule: r.rule, channel: s.slackChannel, purpose: 'reply', text: pageRaisedText(from, to) });
  }
}

/** Only the two priorities: the rest of the alert is the sender's text, shown where it is escaped. */
const pageRaisedText = (from: PagerPriority, to: PagerPriority) => `Page raised from ${from} to ${to}: the alert now routes to a higher priority.`;

/**
 * Whether a storm member's alert, as its rule now routes it, is paged by its storm's one pager alert: the rule pages
 * grouped, and that alert is open at a priority the rule's does not outrank (as `open` decides for a new member).
 */
function stormPageCovers(r: Route, s: AliasState, rules: CompiledRules, neighbours: Neighbours, at: At): boolean {
  if (s.storm === undefined || r.pager === undefined) return false;
  const { channel, since, threshold, window } = s.storm;
  const limits = { threshold, window, windowMs: windowMsOf(window), pages: stormLimitsFor(rules, channel)?.pages };
  const storm = stormOf(channel, since, limits);
  if (!pagesGrouped(r, storm)) return false;
  // An open member paging through the storm's alert keeps that alert open, at the priority it joined it with.
  const grouped = s.storm.pageGrouped === true;
  const current = grouped && s.storm.pagePriority !== undefined ? s.storm.pagePriority : stormPagePriority(neighbours, storm, at);
  if (current === undefined) return grouped;
  return PRIORITY_RANK[r.pager.priority] >= PRIORITY_RANK[current];
}

function repeat(out: Outputs, input: AlertInput, r: Route, s: AliasState, rules: CompiledRules, neighbours: Neighbours, at: At): void {
  const elapsed = Date.parse(input.recordedAt) - Date.parse(s.lastNotifiedAt) >= r.repeatIntervalMs;
  // Opened without a page, its alert now routes to one (its severity rose under the same alias, as a generic sender's
  // dedup key keeps it): paged now, whatever the interval. Before, a warning that became critical paged nobody.
  // A storm member likewise, unless its storm's open alert pages for it: before, a member that became critical was
  // never paged (its storm had no page, or a P3 one), which `open` avoids for a critical that joins a storm.
  const pagesNow = r.pager !== undefined && !s.paged && !stormPageCovers(r, s, rules, neighbours, at);
  // Paged on its own, its alert now routes to a higher priority (a warning that became critical under the same alias):
  // the open page is raised to it. Opsgenie's create deduplicates by alias and keeps the priority it was made with, so
  // a P3 page stayed P3 while its alert was critical. Never lowered: someone may be working it at the priority it has.
  const raisedFrom = raisesPage(r, s);
  // `notified` says whether a notification goes out: a storm member (no thread) or a rule without Slack and without
  // note_on_repeat sends nothing, and the record said it had re-notified.
  const notified = pagesNow || raisedFrom !== undefined || (elapsed && (s.slackChannel !== undefined || (s.paged && r.pager?.noteOnRepeat === true)));
  const pager = pagesNow
    ? { priority: r.pager!.priority, ...(r.pager!.alias !== undefined ? { alias: r.pager!.alias } : {}) }
    : raisedFrom !== undefined
      ? { priority: r.pager!.priority, ...(s.pagerAlias !== undefined ? { alias: s.pagerAlias } : {}), raisedFrom }
      : undefined;
  out.add('IncidentRepeated', {
    ...incidentFacts(s, {
      inputId: input.id,
      rule: r.rule,
      reason: elapsed ? 'repeat-interval-elapsed' : 'duplicate',
      count: s.count + 1,
      labels: input.data.labels,
    }),
    notified,
    ...(pager ? { pager } : {}),
  });
  if (pagesNow) createPage(out, input, r, s.incidentId, s.occurrence, r.pager!.alias ?? s.alias);
  if (raisedFrom !== undefined) raisePage(out, r, s, raisedFrom);
  if (!elapsed || !notified) return;
  const repeated = incidentView(withChanges(s, { count: s.count + 1 }));
  if (s.slackChannel !== undefined) {
    out.add('PostSlackMessage', {
      incidentId: s.incidentId,
      rule: r.rule,
      channel: s.slackChannel,
      purpose: 'reply',
      // Once someone acknowledged it, the reply says it still fires without pinging the rule's @here or group again.
      text: repeatReplyText(repeated, s.status === 'acknowledged' ? [] : r.mention),
    });
  }
  if (s.paged && r.pager?.noteOnRepeat) {
    out.add(
      'AddPagerNote',
      { incidentId: s.incidentId, rule: r.rule, note: `Still firing (received ${repeated.count} times since ${s.openedAt}).` },
      pagerAliasOf(s),
    );
  }
}

/** The sender's instant as toISOString writes it (a state packs that as one number), or undefined when it has none. */
function instantOf(text: string | undefined): string | undefined {
  const ms = text === undefined ? NaN : Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function resolve(out: Outputs, input: AlertInput, r: Route, s: AliasState, neighbours: Neighbours, rules: CompiledRules, at: At): void {
  const endsAt = instantOf(input.data.endsAt);
  out.add('IncidentResolved', {
    ...incidentFacts(s, { inputId: input.id, rule: r.rule, reason: 'resolved', status: 'resolved', labels: input.data.labels }),
    resolvedAt: input.recordedAt,
    ...(endsAt !== undefined ? { endsAt } : {}),
  });
  const resolvedState = folded(out, s)!;
  if (s.slackChannel !== undefined) {
    // The view only for the thread's reply and root: a storm member has no thread, and its view (the links' credentials
    // redacted, a regex pass each) was made and dropped at every resolve.
    const resolved = incidentView(resolvedState);
    out.add('PostSlackMessage', {
      incidentId: s.incidentId,
      rule: r.rule,
      channel: s.slackChannel,
      purpose: 'reply',
      text: resolvedReplyText(resolved),
    });
    out.add('UpdateSlackMessage', { incidentId: s.incidentId, rule: r.rule, ...renderRoot(resolved, [], { historyUrl: rules.historyPublicUrl }) });
  }
  stormOnResolve(out, s, resolvedState, r.rule, neighbours, at);
  if (s.paged) closeOwnPage(out, s, r.rule, RESOLVED_NOTE);
}

/**
 * A storm member acknowledged by a person (`/alertbus ack <alias>`: it has no buttons): the summary shows it
 * acknowledged, and when it pages through the storm's grouped alert, that alert gets a note saying who took which
 * incident. The storm's alert itself is not acknowledged: it stands for every incident the storm gathers.
 */
export function stormOnAcknowledge(out: Outputs, s: AliasState, acknowledgedState: AliasState, rule: RuleRef, neighbours: Neighbours, at: At, by: string): void {
  if (!s.storm) return;
  const { channel, since, threshold, window } = s.storm;
  const storm = stormOf(channel, since, { threshold, window, windowMs: windowMsOf(window) });
  summarise(out, storm, rule, neighbours, acknowledgedState, at);
  if (s.storm.pageGrouped) {
    out.add('AddPagerNote', { incidentId: storm.id, rule, note: stormMemberAcknowledgedNote(by, s) }, storm.alias);
  }
}

/** A storm member unacknowledged in the pager: its storm's summary shows it open again. */
export function stormOnUnacknowledge(out: Outputs, s: AliasState, openState: AliasState, rule: RuleRef, neighbours: Neighbours, at: At): void {
  if (!s.storm) return;
  const { channel, since, threshold, window } = s.storm;
  summarise(out, stormOf(channel, since, { threshold, window, windowMs: windowMsOf(window) }), rule, neighbours, openState, at);
}

/**
 * A storm member resolved, at the source or by a person: its storm's summary is updated in place, and when it was the
 * last open incident paging through the storm's grouped alert, that alert is closed.
 */
export function stormOnResolve(out: Outputs, s: AliasState, resolvedState: AliasState, rule: RuleRef, neighbours: Neighbours, at: At): void {
  if (!s.storm) return;
  const { channel, since, threshold, window } = s.storm;
  const storm = stormOf(channel, since, { threshold, window, windowMs: windowMsOf(window) });
  const members = summarise(out, storm, rule, neighbours, resolvedState, at);
  // The last open incident paging through the storm's alert: the storm's page is over.
  if (s.storm.pageGrouped && members.pagedOpen === 0) {
    out.add('ClosePagerAlert', { incidentId: storm.id, rule, note: stormPageClosedNote(members) }, storm.alias);
  }
}

/**
 * A storm member resolved by a Close of the storm's pager alert in the pager (a PagerActionForwarded). `reachedUpToMs`
 * is when the latest-opened of the incidents the Close was forwarded to opened (the Close's own time in a forward
 * written before that was recorded): a member opened later was not reached by it. When this was the last open member
 * paging through that alert that the Close reached, and members it did not reach are still open, the storm's alert is
 * created again, as the first of them would have created it. Those members joined while the Close's resolves were still being decided (on other
 * partitions): they saw the closed alert's members open and only added notes to it, and as they stay open the storm's
 * count of open grouped members never came back to 1, so nobody was paged for the rest of the storm. The decision that
 * resolves the Close's last member creates it, once: the forwards of the others still found it open, and a member that
 * joins after this decision counts this one and only adds notes. Each router decides from what it holds, so two
 * routers may both create it; the pager deduplicates a create by alias while its alert is open.
 */
export function stormPageAfterClose(out: Outputs, resolvedState: AliasState, rules: CompiledRules, neighbours: Neighbours, at: At, reachedUpToMs: number): void {
  const st = resolvedState.storm;
  if (st?.pageGrouped !== true) return;
  const storm = stormOf(st.channel, st.since, { threshold: st.threshold, window: st.window, windowMs: windowMsOf(st.window) });
  const { pagedOpen } = stormMembers(neighbours, storm, resolvedState, at);
  if (pagedOpen === 0) return;
  // Those the Close did not reach, oldest first (this one, resolved, in place of what the index holds for it): when
  // they are all the storm's open grouped members, none it reached is left for its resolves.
  let after = 0;
  let first: AliasState | undefined;
  for (const m of openedAfter(neighbours, storm, reachedUpToMs, at)) {
    if (m.alias === resolvedState.alias || m.storm?.id !== storm.id || m.storm.pageGrouped !== true || m.status === 'resolved') continue;
    after += 1;
    // The first of them paging through the storm's alert only (one raised to a page of its own keeps that page).
    if (first === undefined && !m.paged) first = m;
  }
  if (after !== pagedOpen || first === undefined) return;
  const routable: RoutableAlert = { labels: first.labels, source: first.source, severity: first.severity, status: 'firing', alias: first.alias };
  const r = route(rules, routable, matchLabels(routable));
  if (r.drop || r.pager === undefined) return;
  // At the priority the members that joined it recorded for the storm's alert (what decides whether a later member
  // outranks it), which is the first of them's own when it created it.
  createStormPage(out, r, storm, first, first.storm!.pagePriority ?? r.pager.priority);
}

/** The members of `storm` that opened after `afterMs`, oldest first. */
function openedAfter(neighbours: Neighbours, storm: Storm, afterMs: number, at: At): Iterable<AliasState> {
  if (neighbours.stormMembersOpenedAfter) return neighbours.stormMembersOpenedAfter(storm.id, storm.channel, afterMs, at);
  return [...neighbours.stormMembers(storm.id, storm.channel, at).members].filter((m) => Date.parse(m.openedAt) > afterMs);
}

/**
 * A resolve of an earlier occurrence, delivered late (the other Alertmanager of a pair, a retried webhook): the alert
 * it resolves ended (its endsAt) before the open occurrence started (the startsAt that opened it). Closing the open
 * incident would silence an alert still firing until the sender's next repeat, hours later. Both times are needed:
 * a resolve may carry an earlier startsAt than the firing that opened (Alertmanager keeps the earliest startsAt of a
 * Prometheus pair's copies), but its alert never ended before the occurrence began. Without them, as before.
 */
function endedBeforeOccurrence(a: { startsAt?: string; endsAt?: string }, stateStartsAt: string | undefined): boolean {
  if (a.endsAt === undefined || a.startsAt === undefined || stateStartsAt === undefined) return false;
  const opened = Date.parse(stateStartsAt);
  return Date.parse(a.endsAt) < opened && Date.parse(a.startsAt) < opened;
}

/**
 * The end (endsAt) and the time it was recorded of the occurrence its sender last resolved, when a firing now may be a
 * late copy of it: the alias's incident closed by its sender's resolve, or resolved by a person and then by its sender
 * (a person's resolve alone, or one without the sender's times, opens again on its next firing: the alert may still
 * fire), else the resolve kept for an alias that had no incident.
 */
function senderEnd(state: DeciderState, resolvedAlias: ResolvedAlias | undefined): { endsAt: string; at: string } | undefined {
  if (state !== undefined) {
    if (state.status !== 'resolved' || state.endsAt === undefined) return undefined;
    // The sender's resolve recorded after the incident's own (a person resolved first, or it ended a kept occurrence).
    const at = state.senderResolvedAt ?? (state.resolvedBy !== undefined ? undefined : state.resolvedAt);
    return at === undefined ? undefined : { endsAt: state.endsAt, at };
  }
  return resolvedAlias;
}

/**
 * A firing of the occurrence its sender already resolved, delivered late (the other Alertmanager of a pair, a retried
 * webhook, or before its own resolve): it started no later than that occurrence ended, and arrived within the rules'
 * late-copy window (defaults.late_copy_window; 0: never) of the resolve. The end, not the start, of the occurrence:
 * Alertmanager keeps the earliest startsAt of a Prometheus pair's copies, so a copy may carry a later startsAt than the
 * one that opened, but every copy started before the alert ended, and a new occurrence starts after it. Without a
 * startsAt, as before: it opens.
 */
function lateCopy(startsAt: string | undefined, recordedAt: string, end: { endsAt: string; at: string } | undefined, windowMs: number): boolean {
  if (startsAt === undefined || end === undefined || windowMs <= 0) return false;
  return Date.parse(startsAt) <= Date.parse(end.endsAt) && Date.parse(recordedAt) - Date.parse(end.at) <= windowMs;
}

/** The later of the sender's endsAt and the one the alias keeps already: a second copy of a resolve never shortens it. */
function laterEnd(endsAt: string, kept: string | undefined): string {
  return kept !== undefined && Date.parse(kept) > Date.parse(endsAt) ? kept : endsAt;
}

/**
 * The firing kept (SuppressedFiring) when a silence, a drop rule or an inhibit rule suppressed it and its alias has no
 * open incident (an open one inhibits already), without the alias's earlier state (`previous`, added by decideAlert):
 * a silenced or dropped one as an inhibitor; a silenced one to page for it when its silence ends
 * (core/silence-end.ts), an inhibited one when nothing inhibits it any more (core/inhibition-end.ts). Not a dropped one
 * that matches no inhibit rule's source side: it could mute nothing. Not a late copy of an occurrence its sender
 * already resolved: no resolve would come to remove it, and it would mute its targets until it expired.
 */
function keptFiring(
  input: AlertInput,
  rules: CompiledRules,
  labels: Readonly<Record<string, string>>,
  state: DeciderState,
  resolvedAlias: ResolvedAlias | undefined,
  kept: SuppressedFiring | undefined,
  by: Pick<SuppressedFiring, 'reason' | 'silenceId' | 'dropRule' | 'inhibitedBy' | 'inhibitRule'>,
): SuppressedFiring | undefined {
  const a = input.data;
  // A silenced or inhibited one is kept whether or not it may inhibit: when its silence or inhibition ends, a tick
  // decides it again.
  if ((state !== undefined && state.status !== 'resolved') || (by.reason === 'dropped-by-rule' && !mayInhibit(rules, labels))) return undefined;
  if (lateCopy(a.startsAt, input.recordedAt, senderEnd(state, resolvedAlias), rules.defaults.lateCopyWindowMs)) return kept;
  return {
    kind: 'alert-suppressed',
    key: input.alias,
    inputId: input.id,
    at: input.recordedAt,
    since: kept?.since ?? input.recordedAt,
    ...(a.startsAt !== undefined ? { startsAt: a.startsAt } : {}),
    ...(a.endsAt !== undefined ? { endsAt: a.endsAt } : {}),
    title: a.title,
    severity: a.severity,
    source: a.source,
    labels: a.labels,
    // What the page when its silence or inhibition ends shows (a dropped firing, kept only as an inhibitor, never opens anything).
    ...(by.reason !== 'dropped-by-rule' ? whatItSays(a) : {}),
    reason: by.reason,
    ...(by.silenceId !== undefined ? { silenceId: by.silenceId } : {}),
    ...(by.dropRule !== undefined ? { dropRule: by.dropRule } : {}),
    ...(by.inhibitedBy !== undefined ? { inhibitedBy: by.inhibitedBy } : {}),
    ...(by.inhibitRule !== undefined ? { inhibitRule: by.inhibitRule } : {}),
  };
}

/**
 * What a silenced or dropped firing's EventSuppressed says of the firing kept under its alias, so that keptFiringOf
 * rebuilds it from incidents.v1: what it holds beyond the event when this firing is kept (or refreshes it), false when
 * this firing lets go of the one kept before; nothing otherwise (none kept, or a late copy leaves it as it was), so
 * the suppressions of firings that may inhibit nothing do not grow.
 */
function keptOf(keep: SuppressedFiring | undefined, before: SuppressedFiring | undefined): KeptFiring | false | undefined {
  if (keep === undefined) return before !== undefined ? false : undefined;
  if (keep === before) return undefined;
  return {
    since: keep.since,
    ...(keep.startsAt !== undefined ? { startsAt: keep.startsAt } : {}),
    ...(keep.endsAt !== undefined ? { endsAt: keep.endsAt } : {}),
    severity: keep.severity,
    source: keep.source,
    labels: keep.labels,
    ...whatItSays(keep),
  };
}

/** The kept firing in front of what the alias holds otherwise (its resolved incident, or the resolve kept for it). */
function inFront(kept: SuppressedFiring, previous: DeciderState | ResolvedAlias): SuppressedFiring {
  const { previous: _, ...firing } = kept;
  return previous === undefined ? firing : { ...firing, previous };
}

/**
 * Decides what an alert means for its alias. Time is the input's recordedAt, never the clock, so the
 * same inputs with the same rules, silences and neighbouring incidents always give byte-identical
 * outputs. Only firing alerts are suppressed (drop rule, then silence, then inhibition): a resolve always
 * closes an open incident, so no rule, silence or inhibition ever strands one open.
 */
export function decideAlert(
  input: AlertInput,
  state: DeciderState,
  rules: CompiledRules,
  ctx: DecisionContext,
  resolvedAlias?: ResolvedAlias,
  suppressed?: SuppressedFiring,
): { events: Outputs['events']; state: DeciderState | ResolvedAlias | SuppressedFiring } {
  const a = input.data;
  const routable: RoutableAlert = { labels: a.labels, source: a.source, severity: a.severity, status: a.status, alias: input.alias };
  const labels = matchLabels(routable);
  const r = route(rules, routable, labels);
  const neighbours = ctx.neighbours ?? NO_NEIGHBOURS;
  const at: At = { atMs: Date.parse(input.recordedAt), ...(ctx.retentionMs !== undefined ? { retentionMs: ctx.retentionMs } : {}) };
  const out = new Outputs(input);
  const isOpen = state !== undefined && state.status !== 'resolved';
  const shared: SharedFactsSeen | undefined = ctx.sharedOffset !== undefined ? { offset: ctx.sharedOffset } : undefined;
  /** The firing kept as an inhibitor after this decision (see keptFiring). */
  let keep: SuppressedFiring | undefined;
  if (a.status === 'firing') {
    if (r.drop) {
      keep = keptFiring(input, rules, labels, state, resolvedAlias, suppressed, { reason: 'dropped-by-rule', dropRule: r.rule.name ?? r.rule.path });
      suppress(out, input, 'dropped-by-rule', r.rule, state, { kept: keptOf(keep, suppressed) });
    } else {
      const silence = ctx.silences?.find(labels, Date.parse(input.recordedAt));
      const inhibition = silence ? undefined : findInhibition(rules, input.alias, labels, neighbours, at);
      if (silence) {
        const d = silence.data;
        keep = keptFiring(input, rules, labels, state, resolvedAlias, suppressed, { reason: 'silenced', silenceId: d.silenceId });
        const by: SuppressedBy = { kind: 'silence', silenceId: d.silenceId, silenceKind: d.kind, createdBy: d.createdBy, comment: d.comment, endsAt: d.endsAt };
        suppress(out, input, 'silenced', r.rule, state, { suppressedBy: by, kept: keptOf(keep, suppressed) });
      } else if (inhibition) {
        const by = inhibitionBy(inhibition.by, inhibition.rule.name ?? inhibition.rule.path);
        // Kept, to page once nothing inhibits it (an InhibitionEndedTick), but not as an inhibitor: two alerts that are
        // each other's source would then mute each other for as long as both fire. A firing kept before (silenced,
        // its silence since ended or changed) is replaced: the latest firing says what the alias's alert is.
        keep = keptFiring(input, rules, labels, state, resolvedAlias, suppressed, { reason: 'inhibited', inhibitedBy: by.alias, inhibitRule: by.inhibitRule });
        suppress(out, input, 'inhibited', r.rule, state, { suppressedBy: by, shared, kept: keptOf(keep, suppressed) });
      } else if (isOpen) repeat(out, input, r, state, rules, neighbours, at);
      else if (lateCopy(a.startsAt, input.recordedAt, senderEnd(state, resolvedAlias), rules.defaults.lateCopyWindowMs)) {
        suppress(out, input, 'occurrence-already-resolved', r.rule, state);
        keep = suppressed;
      } else open(out, input, r, state, rules, neighbours, at, shared);
    }
  } else if (suppressed !== undefined && endedBeforeOccurrence(a, suppressed.startsAt)) {
    // The resolve of an earlier occurrence, delivered late: the firing kept fires still.
    suppress(out, input, 'other-occurrence', r.rule, state);
    keep = suppressed;
  } else if (state === undefined) {
    // Kept (not for an alert a rule drops: its firing opens nothing anyway), so its firing delivered after it opens nothing.
    const endsAt = instantOf(a.endsAt);
    const kept = endsAt !== undefined && !r.drop ? laterEnd(endsAt, resolvedAlias?.endsAt) : undefined;
    suppress(out, input, 'resolved-without-open-incident', r.rule, state, { endsAt: kept });
    if (kept !== undefined) return { events: out.events, state: keptResolveOf(out.last) };
  } else if (!isOpen) {
    // A person resolved it first: the sender's resolve now says the alert is over, and when (kept as a resolve before
    // its firing is), so the late copy of its firing opens nothing. The person's resolve alone never says that. So
    // too when it ends an occurrence kept in front of the resolved incident (silenced, inhibited): the incident's own
    // end is an earlier occurrence's, and a late copy of this one's firing would be kept again, and page.
    const endsAt = (state.resolvedBy !== undefined || suppressed !== undefined) && !r.drop ? instantOf(a.endsAt) : undefined;
    suppress(out, input, 'already-resolved', r.rule, state, { endsAt: endsAt !== undefined ? laterEnd(endsAt, state.endsAt) : undefined });
  } else if (endedBeforeOccurrence(a, state.startsAt)) {
    suppress(out, input, 'other-occurrence', r.rule, state);
  } else {
    resolve(out, input, r, state, neighbours, rules, at);
  }
  const next = folded(out, state) ?? resolvedAlias;
  return { events: out.events, state: keep !== undefined ? inFront(keep, next) : next };
}
