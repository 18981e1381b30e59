import { makeEnvelope, parseDuration, type AliasState, type Envelope, type SlackKeyState } from '@alertbus/schemas';
import type { RouterState } from '../state';
import type { DecisionContext } from './context';
import { NO_NEIGHBOURS, type At } from './neighbours';
import { Outputs } from './outputs';
import { stormOf, stormSummaryKey, tickUpdatesSummary } from './storm';
import { renderStormSummary } from './storm-render';

export type StormTickInput = Envelope<'StormSummaryTick'>;
type SummaryState = Extract<SlackKeyState, { kind: 'storm-summary' }>;

const summaryState = (s: RouterState | undefined): SummaryState | undefined =>
  s !== undefined && 'kind' in s && s.kind === 'storm-summary' ? s : undefined;

function firstOf(members: Iterable<AliasState>): AliasState | undefined {
  for (const m of members) return m;
  return undefined;
}

/**
 * A tick (router.ticks.v1, keyed by the summary's key): time passed with no input. A storm of more than 100 incidents
 * whose summary has changes it has not shown (summaryStale), and whose latest change is in an earlier one-second slot
 * than the tick, gets one UpdateSlackMessage showing it as it is now; the key's `storm-summary` state records what it
 * showed, so a second tick (and a replay of the first) finds nothing stale until the storm changes again. Like every
 * decision, a pure function of the input (its recordedAt is the time), the key's state and the other aliases' incidents.
 */
export function decideStormTick(input: StormTickInput, state: RouterState | undefined, ctx: DecisionContext): { events: Outputs['events']; state: RouterState | undefined } {
  const nothing = { events: [], state };
  const { summaryIncidentId, channel, since } = input.data;
  const neighbours = ctx.neighbours ?? NO_NEIGHBOURS;
  const atMs = Date.parse(input.recordedAt);
  const at: At = { atMs, ...(ctx.retentionMs !== undefined ? { retentionMs: ctx.retentionMs } : {}) };
  const previous = summaryState(state);
  const counts = neighbours.stormMembers(summaryIncidentId, channel, at);
  if (!tickUpdatesSummary(counts, previous?.shown, atMs)) return nothing;
  const first = firstOf(counts.members);
  if (!first?.storm) return nothing;
  const { threshold, window } = first.storm;
  const storm = stormOf(channel, since, { threshold, window, windowMs: parseDuration(window) ?? 0 });
  // A tick names its storm twice (key and data): one that does not agree with itself updates nothing.
  if (storm.id !== summaryIncidentId || storm.alias !== input.alias) return nothing;
  const members = neighbours.stormMembers(summaryIncidentId, channel, at);
  const out = new Outputs(input);
  out.add('UpdateSlackMessage', { incidentId: storm.id, rule: first.rule, ...renderStormSummary(storm, members) }, storm.alias);
  const next: SummaryState = {
    kind: 'storm-summary',
    key: input.alias,
    inputId: input.id,
    at: input.recordedAt,
    shown: { total: members.total, open: members.open, lastChangeAt: new Date(members.lastChangeMs!).toISOString() },
    ...(ctx.sharedOffset !== undefined ? { shared: { offset: ctx.sharedOffset } } : {}),
  };
  return { events: out.events, state: next };
}

/** The summary a tick is for: as storm suppressions and members' states name it. */
export interface TickedStorm {
  summaryIncidentId: string;
  channel: string;
  since: string;
}

/** A tick for a storm's summary at `recordedAt` (the wall clock of the instance that writes it; `id` unique). */
export function stormTick(storm: TickedStorm, recordedAt: string, id: string, source = 'router/ticker'): StormTickInput {
  return makeEnvelope({
    id,
    type: 'StormSummaryTick',
    alias: stormSummaryKey(storm.channel, storm.since),
    occurredAt: recordedAt,
    recordedAt,
    source,
    data: { summaryIncidentId: storm.summaryIncidentId, channel: storm.channel, since: storm.since },
  });
}
