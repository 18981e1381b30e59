/**
 * Exactly-once accounting for a run under faults: what the stand-ins recorded (Slack messages, accepted pager
 * calls, pager alerts), what the topics hold (incidents, commands, deliveries, dead letters) and what the history
 * API shows, reduced to counts that a test compares with what every accepted alert should have produced.
 */
import type { Kafka } from 'kafkajs';
import type { OpsgenieState, SlackState } from '@alertbus/stand-ins';
import { TOPICS } from '@alertbus/schemas';
import { readTopics, type ReadRecord } from './kafka';

/** What the stream got accepted: every alias fired once; `resolved` were resolved after their firing was accepted. */
export interface Expectation {
  accepted: readonly string[];
  resolved: readonly string[];
  /**
   * Firing alerts the stream gave up on without a 2xx (e.g. ingest killed after Kafka took the record, then not
   * answering for the whole retry time): each may or may not have been written, so each may have one incident, one
   * root post and one page, and never more. Their resolves are never sent.
   */
  unanswered?: readonly string[];
}

/** The counts a run is judged by; `expectedSummary` says what they must be. */
export interface DeliverySummary {
  /** Firing alerts ingest answered 2xx for. */
  accepted: number;
  /** Of those, resolved again (the resolve answered 2xx too). */
  resolvedAccepted: number;
  /** Accepted aliases with exactly one incident opened. */
  openedOnce: number;
  /** Accepted aliases whose incident has exactly one root message in Slack. */
  postedOnce: number;
  /** Accepted aliases with exactly one pager create accepted (202) and exactly one pager alert, never re-counted. */
  pagedOnce: number;
  /** Resolved aliases with exactly one reply in their thread and the root message updated. */
  resolvedInSlackOnce: number;
  /** Resolved aliases whose pager alert is closed, by exactly one accepted close. */
  closedOnce: number;
  /** Accepted aliases whose history incident has the right status, the Slack root's ts and the pager alert's id. */
  inHistory: number;
  /** Incidents opened beyond one per accepted alias (a duplicate decision, or a late copy that reopened one). */
  extraIncidents: number;
  /** Slack messages beyond one root per incident and one reply per resolve. */
  extraPosts: number;
  /** Accepted pager creates beyond one per accepted alias. */
  extraPages: number;
  /** DeliveryFailed events on deliveries.v1. */
  deliveryFailed: number;
  /** Records on deadletter.v1 (the run's own topic prefix). */
  deadLettered: number;
}

export function expectedSummary(exp: Expectation): DeliverySummary {
  const n = exp.accepted.length;
  const r = exp.resolved.length;
  return {
    accepted: n,
    resolvedAccepted: r,
    openedOnce: n,
    postedOnce: n,
    pagedOnce: n,
    resolvedInSlackOnce: r,
    closedOnce: r,
    inHistory: n,
    extraIncidents: 0,
    extraPosts: 0,
    extraPages: 0,
    deliveryFailed: 0,
    deadLettered: 0,
  };
}

/** The fields of an event this module reads, parsed from the raw value (so event types it does not know are seen too). */
interface RawEvent {
  id: string;
  type: string;
  alias: string;
  data: Record<string, unknown>;
}

function parse(r: ReadRecord): RawEvent | undefined {
  if (!r.value) return undefined;
  try {
    const v = JSON.parse(r.value) as Partial<RawEvent>;
    return typeof v.type === 'string' ? { id: String(v.id), type: v.type, alias: String(v.alias), data: (v.data ?? {}) as Record<string, unknown> } : undefined;
  } catch {
    return undefined;
  }
}

interface HistoryIncident {
  incident_id: string;
  alias: string;
  status: string;
  slack_root_ts: string | null;
  pager_alert_id: string | null;
}

/** One look at everything: the topics, the stand-ins and the history API. */
export interface Observation {
  incidents: RawEvent[];
  commands: Array<{ topic: string; partition: number; offset: string; event: RawEvent | undefined }>;
  deliveries: RawEvent[];
  deadLetters: RawEvent[];
  history: HistoryIncident[] | undefined;
  historyError?: string;
}

export interface RunContext {
  kafka: Kafka;
  slack: SlackState;
  opsgenie: OpsgenieState;
  /** Base URL of the history API. */
  historyUrl: () => string;
}

async function historyIncidents(base: string): Promise<HistoryIncident[]> {
  const out: HistoryIncident[] = [];
  let cursor: string | undefined;
  for (;;) {
    const q = new URLSearchParams({ limit: '500', ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${base}/api/incidents?${q}`, { signal: AbortSignal.timeout(15_000) });
    if (!res.ok) throw new Error(`history answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const page = (await res.json()) as { incidents: HistoryIncident[]; next_cursor?: string | null };
    out.push(...page.incidents);
    if (!page.next_cursor) return out;
    cursor = page.next_cursor;
  }
}

export async function observe(ctx: RunContext): Promise<Observation> {
  const read = await readTopics(ctx.kafka, [
    TOPICS.incidents,
    TOPICS.slackCommands,
    TOPICS.pagerCommands,
    TOPICS.deliveries,
    TOPICS.deadLetter,
  ]);
  const events = (topic: string) => read.get(topic)!.map(parse).filter((e): e is RawEvent => !!e);
  const commands = [...read.get(TOPICS.slackCommands)!, ...read.get(TOPICS.pagerCommands)!].map((r) => ({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    event: parse(r),
  }));
  const obs: Observation = {
    incidents: events(TOPICS.incidents),
    commands,
    deliveries: events(TOPICS.deliveries),
    deadLetters: events(TOPICS.deadLetter),
    history: undefined,
  };
  try {
    obs.history = await historyIncidents(ctx.historyUrl());
  } catch (err) {
    obs.historyError = (err as Error).message;
  }
  return obs;
}

const OPENING = new Set(['IncidentOpened', 'IncidentReopened']);

/**
 * Nothing left in flight: the router decided every accepted alert and resolve, and every command on the command
 * topics has an outcome (a delivery event other than DeliveryDelayed, or a dead letter of the command record).
 */
export function drained(obs: Observation, exp: Expectation): boolean {
  const opened = new Set(obs.incidents.filter((e) => OPENING.has(e.type)).map((e) => e.alias));
  const resolved = new Set(obs.incidents.filter((e) => e.type === 'IncidentResolved').map((e) => e.alias));
  if (!exp.accepted.every((a) => opened.has(a)) || !exp.resolved.every((a) => resolved.has(a))) return false;
  const done = new Set(obs.deliveries.filter((e) => e.type !== 'DeliveryDelayed').map((e) => String(e.data.commandId)));
  const deadOrigins = new Set(
    obs.deadLetters.map((e) => {
      const o = (e.data.origin ?? {}) as { topic?: string; partition?: number; offset?: string };
      return `${o.topic}|${o.partition}|${o.offset}`;
    }),
  );
  return obs.commands.every(
    (c) => (c.event && done.has(c.event.id)) || deadOrigins.has(`${c.topic}|${c.partition}|${c.offset}`),
  );
}

/** History has projected what the topics say happened to each accepted alias (whether or not that is complete). */
export function historyCaughtUp(obs: Observation, exp: Expectation): boolean {
  if (!obs.history) return false;
  const byIncident = new Map(obs.history.map((h) => [h.incident_id, h]));
  const resolvedIds = new Set(obs.incidents.filter((e) => e.type === 'IncidentResolved').map((e) => String(e.data.incidentId)));
  const accepted = new Set(exp.accepted);
  for (const e of obs.incidents) {
    if (!OPENING.has(e.type) || !accepted.has(e.alias)) continue;
    const h = byIncident.get(String(e.data.incidentId));
    if (!h) return false;
    if (resolvedIds.has(h.incident_id) && h.status !== 'resolved') return false;
  }
  for (const d of obs.deliveries) {
    const h = byIncident.get(String(d.data.incidentId));
    if (!h || !accepted.has(h.alias)) continue;
    if (d.type === 'SlackMessagePosted' && d.data.purpose !== 'reply' && !d.data.threadTs && h.slack_root_ts === null) return false;
    if (d.type === 'PagerAlertCreated' && d.data.alertId && h.pager_alert_id === null) return false;
  }
  return true;
}

interface Counted {
  summary: DeliverySummary;
  /** Which aliases fall short, a few of each, for the failure message. */
  details: string[];
}

function group<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    if (k === undefined) continue;
    const list = m.get(k) ?? [];
    list.push(it);
    m.set(k, list);
  }
  return m;
}

export function summarize(obs: Observation, exp: Expectation, slack: SlackState, opsgenie: OpsgenieState): Counted {
  const accepted = new Set(exp.accepted);
  const resolved = new Set(exp.resolved);
  const unanswered = new Set(exp.unanswered ?? []);
  /** Copies of something an alias should have once: all of them for an alias never sent, all but one otherwise. */
  const beyondOne = (alias: string | undefined, n: number) => (alias !== undefined && (accepted.has(alias) || unanswered.has(alias)) ? Math.max(0, n - 1) : n);
  const short: Record<string, string[]> = {};
  const miss = (what: string, alias: string) => (short[what] ??= []).push(alias);

  // Incidents: one opening per accepted alias.
  const openings = group(
    obs.incidents.filter((e) => OPENING.has(e.type)),
    (e) => e.alias,
  );
  const incidentAlias = new Map<string, string>();
  for (const [alias, list] of openings) for (const e of list) incidentAlias.set(String(e.data.incidentId), alias);
  let openedOnce = 0;
  let extraIncidents = 0;
  for (const [alias, list] of openings) extraIncidents += beyondOne(alias, list.length);
  for (const alias of exp.accepted) {
    if (openings.get(alias)?.length === 1) openedOnce++;
    else miss('openedOnce', alias);
  }

  // Slack: one root per incident, one reply per resolve, nothing else.
  const messagesByAlias = group(slack.messages, (m) => {
    const incident = m.metadata?.event_payload?.incident_id;
    return typeof incident === 'string' ? (incidentAlias.get(incident) ?? `unknown:${incident}`) : 'no-metadata';
  });
  let postedOnce = 0;
  let resolvedInSlackOnce = 0;
  let extraPosts = 0;
  for (const [alias, msgs] of messagesByAlias) {
    const roots = msgs.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
    const replies = msgs.filter((m) => m.thread_ts && m.thread_ts !== m.ts);
    if (!accepted.has(alias)) {
      extraPosts += unanswered.has(alias) ? beyondOne(alias, roots.length) + replies.length : msgs.length;
      continue;
    }
    extraPosts += Math.max(0, roots.length - 1) + Math.max(0, replies.length - (resolved.has(alias) ? 1 : 0));
  }
  for (const alias of exp.accepted) {
    const msgs = messagesByAlias.get(alias) ?? [];
    const roots = msgs.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
    if (roots.length === 1) postedOnce++;
    else miss('postedOnce', alias);
    if (resolved.has(alias)) {
      const replies = msgs.filter((m) => m.thread_ts && m.thread_ts === roots[0]?.ts);
      if (roots.length === 1 && replies.length === 1 && roots[0]!.updates >= 1) resolvedInSlackOnce++;
      else miss('resolvedInSlackOnce', alias);
    }
  }

  // Pager: one accepted create and one alert per alias; one accepted close per resolve.
  const okCalls = opsgenie.calls.filter((c) => c.status === 202 && !c.fault);
  const creates = group(
    okCalls.filter((c) => c.route === 'create'),
    (c) => (c.body as { alias?: string } | undefined)?.alias,
  );
  const closes = group(
    okCalls.filter((c) => c.route === 'close' && c.identifierType === 'alias'),
    (c) => c.identifier,
  );
  const alerts = group(opsgenie.alerts, (a) => a.alias);
  let pagedOnce = 0;
  let closedOnce = 0;
  let extraPages = 0;
  for (const [alias, list] of creates) extraPages += beyondOne(alias, list.length);
  for (const alias of exp.accepted) {
    const a = alerts.get(alias) ?? [];
    if (creates.get(alias)?.length === 1 && a.length === 1 && a[0]!.count === 1) pagedOnce++;
    else miss('pagedOnce', alias);
    if (resolved.has(alias)) {
      if (closes.get(alias)?.length === 1 && a.length === 1 && a[0]!.status === 'closed') closedOnce++;
      else miss('closedOnce', alias);
    }
  }

  // History: the incident, its status, and the Slack root and pager alert the deliveries recorded.
  const history = group(obs.history ?? [], (h) => h.alias);
  const alertIdOf = new Map<string, string>();
  for (const d of obs.deliveries) {
    if (d.type === 'PagerAlertCreated' && typeof d.data.alertId === 'string') alertIdOf.set(String(d.data.incidentId), d.data.alertId);
  }
  let inHistory = 0;
  for (const alias of exp.accepted) {
    const hs = history.get(alias) ?? [];
    const h = hs[0];
    const root = (messagesByAlias.get(alias) ?? []).find((m) => !m.thread_ts || m.thread_ts === m.ts);
    const ok =
      hs.length === 1 &&
      h!.status === (resolved.has(alias) ? 'resolved' : 'open') &&
      root !== undefined &&
      h!.slack_root_ts === root.ts &&
      alertIdOf.has(h!.incident_id) &&
      h!.pager_alert_id === alertIdOf.get(h!.incident_id);
    if (ok) inHistory++;
    else miss('inHistory', alias);
  }

  const deliveryFailed = obs.deliveries.filter((e) => e.type === 'DeliveryFailed');
  const details = Object.entries(short).map(
    ([what, aliases]) => `${what}: ${aliases.length} short, e.g. ${aliases.slice(0, 5).join(', ')}`,
  );
  if (obs.historyError) details.push(`history API: ${obs.historyError}`);
  for (const d of [...deliveryFailed, ...obs.deadLetters].slice(0, 5)) {
    details.push(`${d.type} ${d.alias}: ${String(d.data.error ?? JSON.stringify(d.data.attempts ?? '')).slice(0, 200)}`);
  }
  return {
    summary: {
      accepted: exp.accepted.length,
      resolvedAccepted: exp.resolved.length,
      openedOnce,
      postedOnce,
      pagedOnce,
      resolvedInSlackOnce,
      closedOnce,
      inHistory,
      extraIncidents,
      extraPosts,
      extraPages,
      deliveryFailed: deliveryFailed.length,
      deadLettered: obs.deadLetters.length,
    },
    details,
  };
}

/** Commands that waited for a delivery (a DeliveryDelayed was emitted for them), by the sink's target. */
export function delayedCommands(obs: Observation): { slack: number; pager: number } {
  const topicOf = new Map(obs.commands.filter((c) => c.event).map((c) => [c.event!.id, c.topic]));
  const delayed = new Map<string, unknown>();
  for (const e of obs.deliveries) if (e.type === 'DeliveryDelayed') delayed.set(String(e.data.commandId), e.data.target);
  let slack = 0;
  let pager = 0;
  for (const [id, target] of delayed) {
    const topic = topicOf.get(id);
    if (target === 'slack' || topic === TOPICS.slackCommands) slack++;
    else if (target === 'pager' || topic === TOPICS.pagerCommands) pager++;
  }
  return { slack, pager };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Settled extends Counted {
  observation: Observation;
  /** Whether everything was drained and projected before the deadline (if not, the counts show what is missing). */
  settled: boolean;
}

/**
 * Waits until nothing is in flight and history has caught up, then counts. Never throws on a timeout: the counts
 * of an unsettled run are what the test reports. `timeoutMs` bounds the wait for the pipeline, and history gets
 * `historyGraceMs` more once the pipeline is drained.
 */
export async function settle(
  ctx: RunContext,
  exp: Expectation,
  opts: { timeoutMs: number; historyGraceMs?: number },
): Promise<Settled> {
  const deadline = Date.now() + opts.timeoutMs;
  let historyDeadline: number | undefined;
  let obs: Observation | undefined;
  let settled = false;
  let lastError = '';
  for (;;) {
    try {
      obs = await observe(ctx);
      if (drained(obs, exp)) {
        historyDeadline ??= Math.min(deadline, Date.now() + (opts.historyGraceMs ?? 60_000));
        if (historyCaughtUp(obs, exp)) {
          settled = true;
          break;
        }
        if (Date.now() > historyDeadline) break;
      }
    } catch (err) {
      lastError = (err as Error).message; // e.g. a read stalled on a transaction a killed router left open
    }
    if (Date.now() > deadline) break;
    await sleep(2_000);
  }
  obs ??= await observe(ctx);
  const counted = summarize(obs, exp, ctx.slack, ctx.opsgenie);
  if (!settled) counted.details.unshift(`not settled before the deadline${lastError ? ` (last error: ${lastError})` : ''}`);
  return { ...counted, observation: obs, settled };
}

/** Of `aliases`, how many have their incident's root message in Slack (read now; incidents are looked up on the topic). */
export async function countPosted(kafka: Kafka, slack: SlackState, aliases: readonly string[]): Promise<number> {
  const incidents = (await readTopics(kafka, [TOPICS.incidents])).get(TOPICS.incidents)!.map(parse);
  const aliasOf = new Map(
    incidents.filter((e) => e && OPENING.has(e.type)).map((e) => [String(e!.data.incidentId), e!.alias]),
  );
  const posted = new Set(
    slack.messages
      .filter((m) => !m.thread_ts || m.thread_ts === m.ts)
      .map((m) => aliasOf.get(String(m.metadata?.event_payload?.incident_id))),
  );
  return aliases.filter((a) => posted.has(a)).length;
}

/** Of `aliases`, how many have a pager create the pager API accepted (202). */
export function countPaged(opsgenie: OpsgenieState, aliases: readonly string[]): number {
  const paged = new Set(
    opsgenie.calls
      .filter((c) => c.route === 'create' && c.status === 202 && !c.fault)
      .map((c) => (c.body as { alias?: string } | undefined)?.alias),
  );
  return aliases.filter((a) => paged.has(a)).length;
}
