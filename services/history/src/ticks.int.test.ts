/**
 * The router's ticks in the history, against real Kafka and Postgres: an incident opened when its inhibition ended (an
 * InhibitionEndedTick on router.ticks.v1, the input of its IncidentOpened) shows that tick as the input on its timeline,
 * as `alertbus audit` tells it; before, its timeline began with a decision whose input was nowhere. A rebuild from the
 * log and the audit's comparison agree with the live projection.
 */
import type { Kafka } from 'kafkajs';
import { ensureDatabase } from '@alertbus/common';
import { MIGRATIONS_DIR, rebuildProjection } from '@alertbus/projection';
import { deriveId, makeEnvelope, type AnyEnvelope, type EventData, type EventType, type RuleRef } from '@alertbus/schemas';
import { dropTestDatabase } from '../../../test/support/db';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { runCli } from '../../../test/support/cli';
import { waitFor } from '../../../test/support/wait';
import { startHistory, type HistoryService } from './index';
import { produceStream } from './testdata/produce';

const RULE: RuleRef = { path: 'defaults', rulesVersion: 'sha256:7ac4c0ffee00' };
const NOW = Math.floor(Date.now() / 1000) * 1000;
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const MIN = 60_000;

const CLUSTER = 'alertmanager:ticks-cluster-eu';
const SERVICE = 'alertmanager:ticks-checkout';
const clusterIncident = deriveId('incident', CLUSTER, 1);
const serviceIncident = deriveId('incident', SERVICE, 1);

const events: AnyEnvelope[] = [];
const event = <T extends EventType>(type: T, alias: string, when: string, id: string, data: EventData<T>, source = 'router') =>
  events.push(makeEnvelope({ id, type, alias, occurredAt: when, recordedAt: when, source, data }) as AnyEnvelope);
const alert = (alias: string, status: 'firing' | 'resolved', when: string, title: string, labels: Record<string, string>) => {
  const id = deriveId(alias, 'input', status);
  event('AlertReceived', alias, when, id, { source: 'alertmanager', status, title, severity: 'critical', labels, annotations: {}, links: [], raw: { status } }, 'ingest/alertmanager');
  return id;
};

// The cluster goes down and opens; the service follows and is inhibited (kept, no incident); the cluster resolves; the
// router's inhibition-end ticker writes a tick, whose decision opens the service's incident.
const clusterLabels = { alertname: 'ClusterDown', cluster: 'eu' };
const serviceLabels = { alertname: 'ServiceDown', cluster: 'eu' };
const clusterBase = { incidentId: clusterIncident, occurrence: 1, title: 'ClusterDown eu', severity: 'critical', source: 'alertmanager', rule: RULE, labels: clusterLabels };
const clusterFired = alert(CLUSTER, 'firing', at(-10 * MIN), 'ClusterDown eu', clusterLabels);
event('IncidentOpened', CLUSTER, at(-10 * MIN), deriveId(clusterFired, 'opened'), {
  ...clusterBase, status: 'open', count: 1, reason: 'first-notification', inputId: clusterFired, links: [], openedAt: at(-10 * MIN),
});
const serviceFired = alert(SERVICE, 'firing', at(-9 * MIN), 'ServiceDown checkout', serviceLabels);
event('EventSuppressed', SERVICE, at(-9 * MIN), deriveId(serviceFired, 'suppressed'), {
  inputId: serviceFired,
  inputType: 'AlertReceived',
  reason: 'inhibited',
  rule: RULE,
  suppressedBy: { kind: 'inhibition', incidentId: clusterIncident, alias: CLUSTER, inhibitRule: 'cluster-down-mutes-services' },
});
const clusterResolved = alert(CLUSTER, 'resolved', at(-MIN), 'ClusterDown eu', clusterLabels);
event('IncidentResolved', CLUSTER, at(-MIN), deriveId(clusterResolved, 'resolved'), {
  ...clusterBase, status: 'resolved', count: 1, reason: 'resolved', inputId: clusterResolved, resolvedAt: at(-MIN),
});
const tick = deriveId('tick', SERVICE);
event('InhibitionEndedTick', SERVICE, at(-MIN + 4_000), tick, { inhibitedBy: CLUSTER }, 'router/ticker');
event('IncidentOpened', SERVICE, at(-MIN + 4_000), deriveId(tick, 'opened'), {
  incidentId: serviceIncident, occurrence: 1, title: 'ServiceDown checkout', severity: 'critical', source: 'alertmanager', rule: RULE, labels: serviceLabels,
  status: 'open', count: 1, reason: 'first-notification', inputId: tick, links: [], openedAt: at(-MIN + 4_000),
});

let kafka: Kafka;
let service: HistoryService;

async function timeline(incidentId: string): Promise<Array<{ event_id: string; type: string; stage: string; topic: string }>> {
  const res = await fetch(`${service.url}/api/incidents/${incidentId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { timeline: Array<{ event_id: string; type: string; stage: string; topic: string }> }).timeline;
}

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-ticks');
  await produceStream(kafka, events);
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });
  process.env.HISTORY_URL = service.url;
  await waitFor(async () => Number((await service.pool.query('SELECT count(*) FROM incident_timeline')).rows[0].count) === events.length, {
    what: 'every event projected, the tick included',
  });
});

afterAll(async () => {
  delete process.env.HISTORY_URL;
  await service?.close();
  await dropTestDatabase();
});

it('an incident opened when its inhibition ended shows the tick as its input: received, then decided', async () => {
  const rows = await timeline(serviceIncident);
  expect(rows.map((e) => [e.type, e.stage])).toEqual([
    ['InhibitionEndedTick', 'received'],
    ['IncidentOpened', 'decided'],
  ]);
  expect(rows[0]).toMatchObject({ event_id: tick, topic: expect.stringContaining('router.ticks.v1') });
});

it('`alertbus audit` tells the same story and finds the projection in agreement, the tick compared too', async () => {
  const run = await runCli('audit', SERVICE, '--json');
  expect(run.exitCode).toBe(0);
  const result = JSON.parse(run.stdout);
  const story = result.story.incidents.find((i: { incidentId: string }) => i.incidentId === serviceIncident).entries;
  expect(story.map((e: { event: { id: string } }) => e.event.id)).toEqual((await timeline(serviceIncident)).map((e) => e.event_id));
  expect(result.comparison).toMatchObject({ agrees: true, disagreements: [] });
  expect(result.comparison.matched).toBeGreaterThanOrEqual(3);
});

it('a rebuild from the log gives the same rows, the tick among them', async () => {
  const result = await rebuildProjection({ databaseUrl: process.env.DATABASE_URL!, kafka, migrationsDir: MIGRATIONS_DIR, swap: false });
  expect(result.matches).toBe(true);
});
