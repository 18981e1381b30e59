/** A storm's events as the router and the sinks write them: members opened without a thread, the summary, its page. */
import { deriveId, makeEnvelope, topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { project } from '../project';
import type { Projection } from '../types';

export const STORM_CHANNEL = '#storm';
export const STORM_SINCE = '2025-03-01T10:00:00.000Z';
export const STORM_ALIAS = `storm:${STORM_CHANNEL}:${STORM_SINCE}`;
export const STORM_ID = deriveId('storm', STORM_CHANNEL, STORM_SINCE);
export const SUMMARY_TS = '1740823260.000300';
export const STORM_PAGE = 'storm-alert-1';

const RULE = { path: 'rules[0]', rulesVersion: 'sha256:1111' };
const at = (s: number) => `2025-03-01T10:00:${String(s).padStart(2, '0')}.000Z`;
export const memberId = (n: number) => deriveId('incident', `am:n${n}`, 1);

/** Member n: opened at second n without Slack or pager of its own, then suppressed into the storm. */
export function member(n: number, grouped: boolean): AnyEnvelope[] {
  const base = { alias: `am:n${n}`, occurredAt: at(n), recordedAt: at(n), source: 'router' };
  return [
    makeEnvelope({
      ...base,
      id: deriveId('opened', n),
      type: 'IncidentOpened',
      data: {
        incidentId: memberId(n), occurrence: 1, title: `n${n} down`, severity: 'warning', source: 'alertmanager', status: 'open',
        count: 1, reason: 'first-notification', rule: RULE, inputId: `in-${n}`, labels: { node: `n${n}` }, links: [], openedAt: at(n),
      },
    }),
    makeEnvelope({
      ...base,
      id: deriveId('suppressed', n),
      type: 'EventSuppressed',
      data: {
        inputId: `in-${n}`, inputType: 'AlertReceived', reason: 'storm-control', rule: RULE, incidentId: memberId(n), title: `n${n} down`,
        suppressedBy: {
          kind: 'storm', channel: STORM_CHANNEL, summaryIncidentId: STORM_ID, since: STORM_SINCE, threshold: 5, window: '1m',
          ...(grouped ? { pageGrouped: true, pagePriority: 'P3' } : {}), recent: 5,
        },
      },
    }),
  ] as AnyEnvelope[];
}

/** The summary's root post and the storm's page, as the sinks report them (keyed by the storm's alias). */
export function stormDeliveries(): AnyEnvelope[] {
  const base = { alias: STORM_ALIAS, source: 'sink' };
  return [
    makeEnvelope({
      ...base, id: deriveId('summary', 'posted'), type: 'SlackMessagePosted', occurredAt: at(30), recordedAt: at(30),
      data: { commandId: deriveId('summary'), commandType: 'PostSlackMessage', incidentId: STORM_ID, dryRun: false, attempts: 1, channel: 'C0STORM', ts: SUMMARY_TS, purpose: 'root' },
    }),
    makeEnvelope({
      ...base, id: deriveId('storm-page', 'created'), type: 'PagerAlertCreated', occurredAt: at(31), recordedAt: at(31),
      data: { commandId: deriveId('storm-page'), commandType: 'CreatePagerAlert', incidentId: STORM_ID, dryRun: false, attempts: 1, provider: 'opsgenie', requestId: 'r1', alertId: STORM_PAGE },
    }),
  ] as AnyEnvelope[];
}

/** Three members (n2 and n8 paging through the storm's page, n3 paging on its own), then the storm's deliveries. */
export const stormEvents = (): AnyEnvelope[] => [...member(2, true), ...member(3, false), ...member(8, true), ...stormDeliveries()];

/** Incident events on partition 0, deliveries on partition 1, each at its own offset. */
export const projected = (events: AnyEnvelope[]): Projection[] =>
  events.map((e, i) => project(e, { topic: topicOf(e.type), partition: e.alias.startsWith('storm:') ? 1 : 0, offset: String(i) }));
