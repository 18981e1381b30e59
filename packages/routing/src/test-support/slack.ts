/** Builders of Slack inputs as ingest and the slack-sink write them, and a tiny router over many keys, for the Slack specs. */
import { deriveId, makeEnvelope, type AliasState, type AnyEnvelope, type Envelope, type SlackActionReceived, type SlackMessageReceived } from '@alertbus/schemas';
import { isIncidentEvent } from '../core/evolve';
import type { CompiledRules } from '../rules/types';
import { T0 } from './alerts';
import { decideSlack, SLACK_INPUT_TYPES, type SlackInput } from '../slack/decide';
import { isIncidentState, stateKey, type RouterState } from '../state';

export const TEAM = 'T0TEAM';
export const CHANNEL = 'C0OPS';
export const ALICE = 'U0ALICE';
export const BOB = 'U0BOB';
export const BOT_MENTION = '<@U0ALERTBUS>';

export const messageAlias = (ts: string, channel = CHANNEL, team = TEAM) => `slack:${team}:${channel}:${ts}`;

const at = (ms: number) => new Date(T0 + ms).toISOString();

export interface MessageInit extends Partial<SlackMessageReceived> {
  /** Milliseconds after T0 at which ingest recorded it. */
  at?: number;
  /** Distinguishes deliveries of one message (Slack's retries); part of the input id. */
  delivery?: number;
}

/** A SlackMessageReceived as ingest writes it for an app_mention (override kind, text… for the others). */
export function slackMessage(ts: string, init: MessageInit = {}): Envelope<'SlackMessageReceived'> {
  const { at: ms = 0, delivery = 0, ...data } = init;
  const d: SlackMessageReceived = {
    kind: 'mention',
    team: TEAM,
    channel: CHANNEL,
    channelType: 'unknown',
    user: ALICE,
    text: `${BOT_MENTION} can someone look at the checkout page?`,
    ts,
    eventId: `Ev${ts.replace('.', '')}${delivery}`,
    eventTime: at(0),
    permalink: `https://acme.slack.com/archives/${data.channel ?? CHANNEL}/p${ts.replace('.', '')}`,
    raw: { test: true },
    ...data,
  };
  // `{ user: undefined }` in a test means "no user": the key goes, as ingest would not write it.
  for (const k of Object.keys(d) as Array<keyof SlackMessageReceived>) if (d[k] === undefined) delete d[k];
  const alias = messageAlias(d.ts, d.channel, d.team);
  const id = deriveId('test-slack', alias, d.kind, ms, delivery);
  return makeEnvelope({
    id,
    type: 'SlackMessageReceived',
    alias,
    occurredAt: at(0),
    recordedAt: at(ms),
    source: 'ingest/slack',
    correlationId: id,
    data: d,
  });
}

export interface ActionInit extends Partial<SlackActionReceived> {
  at?: number;
  n?: number;
}

/** A click on one of alertbus's buttons of the incident (alias, incidentId), as ingest writes it. */
export function buttonClick(alias: string, incidentId: string, actionId: 'alertbus_ack' | 'alertbus_resolve' | string, init: ActionInit = {}): Envelope<'SlackActionReceived'> {
  const { at: ms = 0, n = 0, ...data } = init;
  const id = deriveId('test-action', alias, actionId, ms, n);
  return makeEnvelope({
    id,
    type: 'SlackActionReceived',
    alias,
    occurredAt: at(ms),
    recordedAt: at(ms),
    source: 'ingest/slack',
    correlationId: id,
    data: {
      actionId,
      actionType: 'button',
      value: JSON.stringify({ alias, incidentId }),
      incidentId,
      user: { id: BOB, name: 'bob' },
      team: TEAM,
      channel: 'C0ALERTS',
      messageTs: '1700000000.000100',
      raw: { test: true },
      ...data,
    },
  });
}

/** The slack-sink's report of a posted root message of an incident. */
export function rootPosted(alias: string, incidentId: string, ts: string, init: { channel?: string; at?: number; dryRun?: boolean } = {}): Envelope<'SlackMessagePosted'> {
  const id = deriveId('test-posted', alias, ts);
  return makeEnvelope({
    id,
    type: 'SlackMessagePosted',
    alias,
    occurredAt: at(init.at ?? 0),
    recordedAt: at(init.at ?? 0),
    source: 'slack-sink',
    correlationId: id,
    data: {
      commandId: deriveId('command', alias, ts),
      commandType: 'PostSlackMessage',
      incidentId,
      dryRun: init.dryRun ?? false,
      attempts: 1,
      channel: init.channel ?? 'C0ALERTS',
      ts: init.dryRun ? `dry-run:${id}` : ts,
      purpose: 'root',
    },
  });
}

/**
 * The router over every key at once, as one instance holding all partitions: each input is decided against
 * its key's state, and what the router sends itself (thread links, forwarded commands and clicks) is
 * decided next, in order — what the Kafka loop does over slack.received.v1.
 */
export class SlackRouterSim {
  readonly states = new Map<string, RouterState>();
  /** Per incident alias: the state it started from (seeded, or nothing) and every incident event since. */
  readonly folds = new Map<string, { from: AliasState | undefined; events: AnyEnvelope[] }>();
  constructor(private readonly rules: CompiledRules) {}

  /** Decides the input and everything it forwards to the router; returns every output, in order. */
  run(input: SlackInput): AnyEnvelope[] {
    const all: AnyEnvelope[] = [];
    const queue: SlackInput[] = [input];
    while (queue.length > 0) {
      const next = queue.shift()!;
      const d = decideSlack(next, this.states.get(next.alias), this.rules);
      if (d.state !== undefined) this.states.set(stateKey(d.state), d.state);
      for (const e of d.events) {
        all.push(e);
        if (isIncidentEvent(e)) {
          const f = this.folds.get(e.alias) ?? { from: undefined, events: [] };
          f.events.push(e);
          this.folds.set(e.alias, f);
        }
        if (SLACK_INPUT_TYPES.has(e.type) && e.type !== 'SlackMessagePosted') queue.push(e as SlackInput);
      }
    }
    return all;
  }

  /** Sets an incident's state directly (an alert incident opened by the alert decider). */
  seed(state: RouterState): void {
    this.states.set(stateKey(state), state);
    if (isIncidentState(state)) this.folds.set(state.alias, { from: state, events: [] });
  }

  incident(alias: string) {
    const s = this.states.get(alias);
    return isIncidentState(s) ? s : undefined;
  }
}
