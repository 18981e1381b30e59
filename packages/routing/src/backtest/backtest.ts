import { deriveId, type AnyEnvelope } from '@alertbus/schemas';
import type { AlertInput, InhibitionEndInput, PagerActionInput, SilenceEndInput, SlackInput } from '../decider';
import { evolveAlert, isIncidentEvent, type ResolvedAlias } from '../core/evolve';
import { freedInhibitedFirings, INHIBITION_END_TICK_INTERVAL_MS, inhibitionEndTick } from '../core/inhibition-end';

/** How long after its last look the candidate's ticker looks again whatever happened (the router's, a minute). */
const FULL_LOOK_MS = 60_000;
import type { SuppressedFiring } from '../core/suppressed-firing';
import { DEFAULT_STATE_RETENTION_MS, liveState } from '../core/expiry';
import { StateIndex } from '../core/neighbours';
import { ROUTER_SOURCE } from '../core/outputs';
import { Replayer } from '../core/replay';
import { SilenceBook, type SilenceEvent } from '../core/silences';
import type { CompiledRules } from '../rules/types';
import { differences, outcomeOf, OUTCOME_FIELDS, toEffect, type Effect, type Outcome, type OutcomeField } from './outcome';

/** Totals of one side (what happened, or what the candidate rules would have done). */
export interface SideTotals {
  opened: number;
  paged: number;
  byPriority: Record<string, number>;
  suppressed: Record<string, number>;
  messages: Record<string, number>;
}

/** One incident (with the inputs that belong to it on either side) whose outcome differs. */
export interface IncidentChange {
  alias: string;
  title: string;
  inputs: number;
  /** Incident ids on each side (they differ when one side opened an occurrence the other did not). */
  actualIncidents: string[];
  candidateIncidents: string[];
  actual: Outcome;
  candidate: Outcome;
  differences: OutcomeField[];
}

/**
 * What people did, replayed with the alerts: everything on slack.received.v1 (clicks, `ack` / `resolve` typed in a
 * thread or by mention, slash commands, and the router's own records: thread links, forwards of those commands) and the
 * pager's actions.
 */
export type PersonInput = SlackInput | PagerActionInput;
/**
 * The window's inputs: alerts, the router's silence-end and inhibition-end ticks (router.ticks.v1: a firing kept under
 * a silence or while inhibited, decided again when the silence or the inhibition ended, is compared as the alerts
 * are), and people's inputs.
 */
export type BacktestInput = AlertInput | SilenceEndInput | InhibitionEndInput | PersonInput;

/** What a person's input did to the incident of its alias, on one side. */
export type PersonActionResult =
  | { did: 'acknowledged' | 'unacknowledged' | 'resolved' }
  /** `incident`: what the candidate held for the alias when the input came (none: it never opened one, or it expired). */
  | { did: 'nothing'; reason: string; incident?: 'none' | 'open' | 'acknowledged' | 'resolved' };

/** A person's ack or resolve that changed the incident on one side and did something else (or nothing) on the other. */
export interface PersonActionChange {
  alias: string;
  /** When it was recorded. */
  at: string;
  via: 'slack' | 'pager';
  actual: PersonActionResult;
  candidate: PersonActionResult;
}

export interface BacktestReport {
  window: { from: string; to: string };
  candidate: { rulesVersion: string; origin: string };
  /** Rules versions recorded on the actual decisions of the window. */
  actualRulesVersions: string[];
  totals: {
    /** The window's recorded inputs (not the candidate's own inhibition-end ticks). */
    inputs: number;
    /** Inputs the router had not decided yet (no decision on incidents.v1): left out of the comparison. */
    undecided: number;
    incidents: number;
    changed: number;
    /**
     * Inhibition ends the candidate's own ticker wrote (decided, compared with the incidents they belong to), for firings
     * the candidate kept inhibited where the router did not keep that input inhibited, so that no recorded tick frees
     * them. Without them a candidate that inhibits more would never page the targets it mutes, however soon their
     * inhibitor resolved. Always 0 for the rules the router ran.
     */
    candidateInhibitionEnds: number;
    changedBy: Record<OutcomeField, number>;
    actual: SideTotals;
    candidate: SideTotals;
  };
  changes: IncidentChange[];
  /**
   * People's inputs replayed with the alerts (so an incident a person resolved is resolved on the candidate side too,
   * when it holds it); `inputs` counts what people did, not the router's own records replayed with them;
   * `changed`: the acks and resolves whose effect differs, in the order they were decided.
   */
  people: { inputs: number; changed: PersonActionChange[] };
}

interface InputMeta {
  id: string;
  alias: string;
  title: string;
  order: number;
  /** An InhibitionEndedTick the candidate's ticker wrote, not a recorded input. */
  candidateTick?: true;
}

/** Union-find over string keys: inputs join the incidents they belong to on either side. */
class Groups {
  private readonly parent = new Map<string, string>();
  find(k: string): string {
    let p = this.parent.get(k) ?? k;
    if (p === k) return k;
    p = this.find(p);
    this.parent.set(k, p);
    return p;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

interface PersonMeta {
  id: string;
  /** Written by ingest for a person, not by the router for itself (a thread link, a forwarded command). */
  byPerson: boolean;
  alias: string;
  at: string;
  via: 'slack' | 'pager';
  candidate: PersonActionResult;
}

/** What the decisions of one person's input did to its incident: resolved or acknowledged it, or why not. */
function resultOf(effects: readonly Effect[]): PersonActionResult {
  if (effects.some((e) => e.type === 'IncidentResolved')) return { did: 'resolved' };
  if (effects.some((e) => e.type === 'IncidentAcknowledged')) return { did: 'acknowledged' };
  if (effects.some((e) => e.type === 'IncidentUnacknowledged')) return { did: 'unacknowledged' };
  return { did: 'nothing', reason: effects.find((e) => e.type === 'EventSuppressed' && e.reason)?.reason ?? 'nothing-decided' };
}

function emptyTotals(): SideTotals {
  return { opened: 0, paged: 0, byPriority: {}, suppressed: {}, messages: {} };
}

function addTotals(t: SideTotals, e: Effect): void {
  const inc = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  if (e.type === 'IncidentOpened' || e.type === 'IncidentReopened') t.opened += 1;
  if (e.type === 'CreatePagerAlert') {
    t.paged += 1;
    if (e.priority) inc(t.byPriority, e.priority);
  }
  if (e.type === 'EventSuppressed' && e.reason) inc(t.suppressed, e.reason);
  if (e.type === 'PostSlackMessage' && e.channel) inc(t.messages, e.channel);
}

const incidentOf = (effects: readonly Effect[]) =>
  effects.find((e) => e.incidentId !== undefined && (e.type.startsWith('Incident') || e.type === 'EventSuppressed'))?.incidentId;

/**
 * Runs candidate rules over a window of recorded inputs, with no side effects, and compares the outcome
 * with what actually happened. Feed it, in this order: the silences and the incident events recorded
 * before the window (any order among them, per-alias order within incidents), then the window's inputs in
 * decision order (alerts with people's inputs from Slack and the pager, which change the candidate's incidents as they
 * changed the recorded ones). The actual router outputs come before the inputs (backtestFromKafka reads them so): they
 * also tell which firings the candidate keeps inhibited where the router did not, which only the candidate's own
 * inhibition-end ticker frees (given later, they are still compared, but every such firing counts as the candidate's
 * own). Nothing here reads Kafka or the clock.
 */
export class Backtest {
  private readonly book = new SilenceBook();
  private readonly states = new StateIndex();
  /**
   * What aliases with no live incident hold from before the window, folded like the incidents: kept resolves (state kind
   * alert-resolved) and kept firings (alert-suppressed): silenced or dropped ones the index holds as inhibitors too,
   * inhibited ones only to decide again at their tick.
   */
  private readonly kept = new Map<string, ResolvedAlias | SuppressedFiring>();
  private replayer: Replayer | null = null;
  private readonly inputs: InputMeta[] = [];
  private readonly known = new Set<string>();
  private readonly candidate = new Map<string, Effect[]>();
  private readonly actual = new Map<string, Effect[]>();
  /** Actual outputs that came before their input was seen (the caller read them first). */
  private readonly pending = new Map<string, Effect[]>();
  /** People's inputs, in decision order, and what the router actually decided for each. */
  private readonly people: PersonMeta[] = [];
  private readonly personIds = new Set<string>();
  private readonly peopleActual = new Map<string, Effect[]>();
  /**
   * Aliases whose firing the candidate keeps inhibited where the router did not keep that input inhibited by the same
   * inhibitor (it opened it, kept it otherwise, or muted it under another one): no recorded tick frees it when the
   * candidate's inhibitor leaves, so the candidate's own inhibition-end ticker writes that tick. Where the router kept
   * it under the same inhibitor, its recorded tick frees it at the time the router did, late or not (the same tick: the
   * same rules open the same incident, and the same rules therefore write no tick of their own). Not while the router's
   * decision of that input is unknown (not decided yet): it is left out of the comparison anyway.
   */
  private readonly ownTicked = new Set<string>();
  /** By alias: the input of the router's latest decision before the window that kept its firing inhibited, and by whom. */
  private readonly keptBeforeWindow = new Map<string, { inputId: string; by: string | undefined }>();
  /** By alias: the latest input the router kept inhibited (a recorded tick belongs with it). */
  private readonly routerKeptInput = new Map<string, string>();
  /** The candidate's ticker's next look, owed since an inhibitor left, a tick was decided, or a minute passed. */
  private lookOwedAtMs: number | undefined;
  /** The candidate's ticker's last look (its recorded time), for the look a minute after it whatever happened. */
  private lastLookMs = Number.NEGATIVE_INFINITY;
  /** Marks the candidate's ticker wrote a tick for: one per kept firing, as the router's ticker. */
  private readonly ticked = new Set<string>();
  /** Inputs that belong to the same incident story: a tick and the input whose firing it decided again. */
  private readonly links: Array<[string, string]> = [];
  /** StateIndex.inhibitorsGone at the last input (a look is owed once an inhibitor left). */
  private goneSeen = -1;
  /** The latest recorded input decided. */
  private lastInput: string | undefined;
  /** By candidate's tick: the latest recorded input decided before its look (compared when that one is). */
  private readonly causes = new Map<string, string>();
  private drained = false;

  constructor(
    private readonly rules: CompiledRules,
    private readonly window: { from: string; to: string },
  ) {}

  silence(e: SilenceEvent): void {
    this.book.apply(e);
  }

  /**
   * An incident event recorded before the window: folded into the state the replay starts from, as the router held it
   * (evolveAlert). An alias holds an incident or the resolve kept for it, never both: a kept resolve takes the place of
   * an incident (one expired, which the router's decision saw as absent), an incident that of a kept resolve. A silenced
   * or dropped firing kept as an inhibitor stands in front of either, and inhibits its targets in the window as it did.
   */
  history(e: AnyEnvelope): void {
    if (this.replayer) throw new Error('history must be given before the first input');
    if (!isIncidentEvent(e)) return;
    const before = this.kept.get(e.alias) ?? this.states.get(e.alias);
    const next = evolveAlert(before, e, DEFAULT_STATE_RETENTION_MS);
    if (next === before) return;
    if (next === undefined || !('kind' in next)) this.kept.delete(e.alias);
    else this.kept.set(e.alias, next);
    this.states.put(e.alias, next);
    if (next !== undefined && 'kind' in next && next.kind === 'alert-suppressed' && next.reason === 'inhibited') {
      this.keptBeforeWindow.set(e.alias, { inputId: next.inputId, by: next.inhibitedBy });
      this.routerKeptInput.set(e.alias, next.inputId);
    } else {
      this.keptBeforeWindow.delete(e.alias);
      this.routerKeptInput.delete(e.alias);
    }
  }

  /**
   * One input of the window, decided now with the candidate rules: an alert (compared), or a person's input (replayed
   * against the candidate's states, and only its acks and resolves compared, in `people`).
   */
  input(input: BacktestInput): void {
    // Expired states count as absent, as in the router (ROUTER_STATE_RETENTION at its default).
    this.replayer ??= new Replayer(this.rules, { silences: this.book, states: this.states, keys: this.kept, retentionMs: DEFAULT_STATE_RETENTION_MS });
    if (this.known.has(input.id)) return; // a redelivered record: the router decides it once too
    this.known.add(input.id);
    const replayer = this.replayer;
    this.lookWhenDue(Date.parse(input.recordedAt), replayer);
    if (input.type !== 'AlertReceived' && input.type !== 'SilenceEndedTick' && input.type !== 'InhibitionEndedTick') this.person(input, replayer);
    else {
      this.inputs.push({ id: input.id, alias: input.alias, title: this.titleOf(input), order: this.inputs.length });
      const effects = replayer.decide(input.type === 'InhibitionEndedTick' ? this.recordedTick(input) : input).events.map(toEffect).filter((e): e is Effect => e !== null);
      this.candidate.set(input.id, effects);
      const early = this.pending.get(input.id);
      if (early) {
        this.actual.set(input.id, early);
        this.pending.delete(input.id);
      }
    }
    this.lastInput = input.id;
    this.afterDecision(input);
  }

  /**
   * What the router's decision of `inputId` did with its firing: kept it inhibited by that inhibitor (its alias), did
   * otherwise (null), or is not known (undefined: not decided yet, or before the window and not what the router kept).
   * Read from its outputs in the window (given before the inputs, as backtestFromKafka and runBacktest give them), or
   * from the state folded before it.
   */
  private routerKeptBy(alias: string, inputId: string): string | null | undefined {
    const before = this.keptBeforeWindow.get(alias);
    // (An inhibitor not named, which no record the router writes lacks, is not known.)
    if (before?.inputId === inputId) return before.by;
    const effects = this.pending.get(inputId) ?? this.actual.get(inputId);
    if (effects === undefined) return undefined;
    const kept = effects.find((e) => e.type === 'EventSuppressed' && e.reason === 'inhibited' && e.keeps === true);
    return kept ? kept.inhibitedBy : null;
  }

  /**
   * After a decision for `after`'s alias: whether the candidate's own ticker looks after the firing it keeps (see
   * ownTicked), and whether a look is owed: one ticker interval later once an inhibitor has left since the last input,
   * or after a tick (a chain of inhibit rules frees one step per tick), or a minute after the last look (an inhibitor
   * changed in place or expired leaves nothing), while the candidate keeps any such firing.
   */
  private afterDecision(after: { id: string; alias: string; type: string; recordedAt: string }): void {
    // The firing the router keeps for the alias: the latest recorded input (alert or tick) its decision kept inhibited,
    // none once a decision of the router's did otherwise (opened, resolved…); as it was while the router's is unknown
    // (undecided, or the candidate's own tick, which the router never saw).
    if (after.type === 'AlertReceived' || after.type === 'SilenceEndedTick' || after.type === 'InhibitionEndedTick') {
      const by = this.routerKeptBy(after.alias, after.id);
      if (typeof by === 'string') this.routerKeptInput.set(after.alias, after.id);
      else if (by === null) this.routerKeptInput.delete(after.alias);
    }
    const kept = this.states.source(after.alias);
    const routerBy = kept?.reason === 'inhibited' ? this.routerKeptBy(after.alias, kept.inputId) : undefined;
    if (kept?.reason === 'inhibited' && routerBy !== undefined && routerBy !== kept.inhibitedBy) this.ownTicked.add(after.alias);
    else this.ownTicked.delete(after.alias);
    const gone = this.states.inhibitorsGone;
    const atMs = Date.parse(after.recordedAt);
    const owed = gone !== this.goneSeen || after.type === 'InhibitionEndedTick' || atMs >= this.lastLookMs + FULL_LOOK_MS;
    this.goneSeen = gone;
    if (owed && this.ownTicked.size > 0) this.lookOwedAtMs ??= atMs + INHIBITION_END_TICK_INTERVAL_MS;
  }

  /**
   * The router's inhibition-end ticker over the candidate's states: the look owed by `limitMs` (`inclusive` false: only
   * before it) finds the kept firings nothing inhibits then (all of them, so that one another freed one would inhibit
   * waits: firstToTick), and writes the ticks of those among ownTicked at its time, decided before the input at
   * `limitMs`. Owed only while ownTicked has any: a backtest of the rules the router ran never looks.
   */
  private lookWhenDue(limitMs: number, replayer: Replayer, inclusive = true): void {
    for (let atMs = this.lookOwedAtMs; atMs !== undefined && (atMs < limitMs || (inclusive && atMs === limitMs)); atMs = this.lookOwedAtMs) {
      this.lookOwedAtMs = undefined;
      this.lastLookMs = atMs;
      const recordedAt = new Date(atMs).toISOString();
      for (const f of freedInhibitedFirings(this.states, this.rules, atMs, DEFAULT_STATE_RETENTION_MS)) {
        if (!this.ownTicked.has(f.key)) continue;
        const mark = `${f.inputId}/${f.inhibitedBy}`;
        if (this.ticked.has(mark)) continue;
        this.ticked.add(mark);
        const tick = inhibitionEndTick(f.key, f.inhibitedBy!, recordedAt, deriveId('backtest-inhibition-end', f.key, mark));
        this.known.add(tick.id);
        this.inputs.push({ id: tick.id, alias: f.key, title: this.titleOf(tick), order: this.inputs.length, candidateTick: true });
        if (this.lastInput !== undefined) this.causes.set(tick.id, this.lastInput);
        this.links.push([tick.id, f.inputId]);
        this.candidate.set(tick.id, replayer.decide(tick).events.map(toEffect).filter((e): e is Effect => e !== null));
        this.afterDecision(tick);
      }
    }
  }

  /**
   * A recorded inhibition end, as the candidate decides it: it belongs with the firing the candidate keeps inhibited
   * under the alias, and decides that firing again at its time even when the candidate's rules name another inhibitor
   * (the router's tick names the router's): still inhibited, it is kept again, and the candidate's own ticker frees it
   * later (the router opened it at this tick, so no recorded tick will).
   */
  private recordedTick(input: InhibitionEndInput): InhibitionEndInput {
    // With the firing the router kept (the candidate may have opened it since, through its own tick).
    const routerKept = this.routerKeptInput.get(input.alias);
    if (routerKept !== undefined) this.links.push([input.id, routerKept]);
    const kept = this.states.source(input.alias);
    if (kept?.reason !== 'inhibited' || kept.inhibitedBy === undefined) return input;
    this.links.push([input.id, kept.inputId]);
    return kept.inhibitedBy === input.data.inhibitedBy ? input : { ...input, data: { ...input.data, inhibitedBy: kept.inhibitedBy } };
  }

  /**
   * Whether the router decided the input (its outputs were read); a candidate's tick when the latest recorded input
   * before its look was: at the window's end, the router may not have decided what freed it yet.
   */
  private decided(id: string): boolean {
    if (this.actual.has(id) || this.peopleActual.has(id)) return true;
    const cause = this.causes.get(id);
    return cause !== undefined && this.decided(cause);
  }

  /** An alert's title; a tick's, the title of the firing kept under the alias (as the candidate holds it). */
  private titleOf(input: AlertInput | SilenceEndInput | InhibitionEndInput): string {
    if (input.type === 'AlertReceived') return input.data.title;
    const kept = this.states.source(input.alias)?.title;
    if (kept !== undefined) return kept;
    return input.type === 'SilenceEndedTick' ? `silence ${input.data.silenceId} ended` : `inhibition by ${input.data.inhibitedBy} ended`;
  }

  private person(input: PersonInput, replayer: Replayer): void {
    this.personIds.add(input.id);
    const held = liveState(this.states.get(input.alias), Date.parse(input.recordedAt), DEFAULT_STATE_RETENTION_MS);
    const effects = replayer.decide(input).events.map(toEffect).filter((e): e is Effect => e !== null);
    const result = resultOf(effects);
    this.people.push({
      id: input.id,
      byPerson: input.source !== ROUTER_SOURCE,
      alias: input.alias,
      at: input.recordedAt,
      via: input.type === 'PagerActionReceived' ? 'pager' : 'slack',
      candidate: result.did === 'nothing' ? { ...result, incident: held?.status ?? 'none' } : result,
    });
    const early = this.pending.get(input.id);
    if (early) {
      this.peopleActual.set(input.id, early);
      this.pending.delete(input.id);
    }
  }

  /** An output the router actually wrote (incidents.v1, command topics); those not caused by a window input are ignored. */
  actualOutput(e: AnyEnvelope): void {
    const effect = toEffect(e);
    if (!effect) return;
    const target = this.personIds.has(effect.inputId) ? this.peopleActual : this.known.has(effect.inputId) ? this.actual : this.pending;
    let list = target.get(effect.inputId);
    if (!list) target.set(effect.inputId, (list = []));
    list.push(effect);
  }

  report(): BacktestReport {
    // The candidate's ticks due within the window and not written yet (no later input came to write them before).
    if (this.replayer && !this.drained) this.lookWhenDue(Date.parse(this.window.to), this.replayer, false);
    this.drained = true;
    const versions = new Set<string>();
    for (const effects of this.actual.values()) for (const e of effects) if (e.rulesVersion) versions.add(e.rulesVersion);
    const decided = this.inputs.filter((i) => this.decided(i.id));
    const groups = new Groups();
    for (const [a, b] of this.links) groups.union(`input:${a}`, `input:${b}`);
    for (const i of decided) {
      const a = incidentOf(this.actual.get(i.id) ?? []);
      const c = incidentOf(this.candidate.get(i.id) ?? []);
      const node = `input:${i.id}`;
      if (a) groups.union(node, `actual:${a}`);
      if (c) groups.union(node, `candidate:${c}`);
      // Inputs that belong to no incident on either side (e.g. dropped both times) form one group per alias.
      if (!a && !c) groups.union(node, `alias:${i.alias}`);
    }
    const byGroup = new Map<string, InputMeta[]>();
    for (const i of decided) {
      const g = groups.find(`input:${i.id}`);
      let list = byGroup.get(g);
      if (!list) byGroup.set(g, (list = []));
      list.push(i);
    }
    const totals = { actual: emptyTotals(), candidate: emptyTotals() };
    const changedBy = Object.fromEntries(OUTCOME_FIELDS.map((f) => [f, 0])) as Record<OutcomeField, number>;
    const changes: IncidentChange[] = [];
    // A storm's summary and page are caused by one member's input but are the storm's: compared as the storm's own.
    const storms = new Map<string, { inputs: Set<string>; actual: Effect[]; candidate: Effect[] }>();
    const own = (effects: Effect[], side: 'actual' | 'candidate') =>
      effects.filter((e) => {
        if (e.storm === undefined) return true;
        let storm = storms.get(e.storm);
        if (!storm) storms.set(e.storm, (storm = { inputs: new Set(), actual: [], candidate: [] }));
        storm.inputs.add(e.inputId);
        storm[side].push(e);
        return false;
      });
    for (const members of byGroup.values()) {
      const actualEffects = members.flatMap((m) => this.actual.get(m.id) ?? []);
      const candidateEffects = members.flatMap((m) => this.candidate.get(m.id) ?? []);
      actualEffects.forEach((e) => addTotals(totals.actual, e));
      candidateEffects.forEach((e) => addTotals(totals.candidate, e));
      const actual = outcomeOf(own(actualEffects, 'actual'));
      const candidate = outcomeOf(own(candidateEffects, 'candidate'));
      const diff = differences(actual, candidate);
      if (diff.length === 0) continue;
      diff.forEach((f) => (changedBy[f] += 1));
      const ids = (effects: Effect[]) => [...new Set(effects.map((e) => e.incidentId).filter((x): x is string => !!x && !x.startsWith('storm')))];
      changes.push({
        alias: members[0]!.alias,
        title: members[0]!.title,
        inputs: members.length,
        actualIncidents: ids(actualEffects.filter((e) => e.type.startsWith('Incident') || e.type === 'EventSuppressed')),
        candidateIncidents: ids(candidateEffects.filter((e) => e.type.startsWith('Incident') || e.type === 'EventSuppressed')),
        actual,
        candidate,
        differences: diff,
      });
    }
    for (const [alias, storm] of storms) {
      const actual = outcomeOf(storm.actual);
      const candidate = outcomeOf(storm.candidate);
      const diff = differences(actual, candidate);
      if (diff.length === 0) continue;
      diff.forEach((f) => (changedBy[f] += 1));
      changes.push({ alias, title: 'storm summary and page', inputs: storm.inputs.size, actualIncidents: [], candidateIncidents: [], actual, candidate, differences: diff });
    }
    changes.sort((x, y) => (x.alias < y.alias ? -1 : x.alias > y.alias ? 1 : 0));
    const recorded = this.inputs.filter((i) => !i.candidateTick).length;
    const decidedRecorded = decided.filter((i) => !i.candidateTick).length;
    return {
      window: this.window,
      candidate: { rulesVersion: this.rules.version, origin: this.rules.origin },
      actualRulesVersions: [...versions].sort(),
      totals: {
        inputs: recorded,
        undecided: recorded - decidedRecorded,
        incidents: byGroup.size,
        changed: changes.length,
        candidateInhibitionEnds: decided.length - decidedRecorded,
        changedBy,
        actual: sortTotals(totals.actual),
        candidate: sortTotals(totals.candidate),
      },
      changes,
      people: { inputs: this.people.filter((p) => p.byPerson).length, changed: this.peopleChanged() },
    };
  }

  /** The people's acks and resolves that changed the incident on one side only (or changed it differently); undecided ones are left out. */
  private peopleChanged(): PersonActionChange[] {
    const out: PersonActionChange[] = [];
    for (const p of this.people) {
      const effects = this.peopleActual.get(p.id);
      if (!effects) continue;
      const actual = resultOf(effects);
      if (actual.did === p.candidate.did) continue;
      out.push({ alias: p.alias, at: p.at, via: p.via, actual, candidate: p.candidate });
    }
    return out;
  }
}

function sortMap(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sortTotals(t: SideTotals): SideTotals {
  return { ...t, byPriority: sortMap(t.byPriority), suppressed: sortMap(t.suppressed), messages: sortMap(t.messages) };
}

export interface BacktestSource {
  silences: AsyncIterable<SilenceEvent> | Iterable<SilenceEvent>;
  /** Incident events recorded before the window, in per-alias order. */
  history: AsyncIterable<AnyEnvelope> | Iterable<AnyEnvelope>;
  /** The window's inputs (alerts, and people's inputs from Slack and the pager), in the order to decide them. */
  inputs: AsyncIterable<BacktestInput> | Iterable<BacktestInput>;
  /** What the router wrote for them (incidents.v1 and the command topics); unrelated records are ignored. */
  actual: AsyncIterable<AnyEnvelope> | Iterable<AnyEnvelope>;
}

/** The backtest over injected streams, consumed in the order the class needs. */
export async function runBacktest(
  rules: CompiledRules,
  window: { from: string; to: string },
  source: BacktestSource,
  onInput?: (done: number) => void,
): Promise<BacktestReport> {
  const bt = new Backtest(rules, window);
  for await (const s of source.silences) bt.silence(s);
  for await (const h of source.history) bt.history(h);
  // What the router wrote before the inputs, as backtestFromKafka gives them (see Backtest).
  for await (const a of source.actual) bt.actualOutput(a);
  let n = 0;
  for await (const i of source.inputs) {
    bt.input(i);
    onInput?.(++n);
  }
  return bt.report();
}
