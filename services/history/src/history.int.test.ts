/** history against real Kafka and Postgres: what an SRE sees through the API after events flow in. */
import { ensureDatabase } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { GROUPS, HEADERS, TOPICS, deriveId, type AnyEnvelope, type DeadLetter } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { dropTestDatabase } from '../../../test/support/db';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { startHistory, type HistoryService } from './index';
import {
  ALIAS,
  INCIDENT_ID,
  RULE,
  opened,
  pagerCreated,
  repeated,
  resolved,
  slackPosted,
  suppressed,
} from '@alertbus/projection/src/testdata/events';

let kafka: Kafka;
let producer: EventProducer;
let service: HistoryService | undefined;

const start = () =>
  startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${service!.url}${path}`);
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

/** Sum of a counter's samples in the Prometheus text, optionally only those with a label value. */
async function metric(name: string, label = ''): Promise<number> {
  const { body } = await get('/metrics');
  return (body as string)
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(label))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

async function counts(): Promise<Record<string, number>> {
  const { rows } = await service!.pool.query(`SELECT
    (SELECT count(*) FROM incidents)::int AS incidents,
    (SELECT count(*) FROM incident_timeline)::int AS timeline,
    (SELECT count(*) FROM deliveries)::int AS deliveries`);
  return rows[0];
}

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-int');
  producer = new EventProducer(kafka);
  await producer.connect();
});

afterAll(async () => {
  await service?.close();
  await producer?.disconnect();
  await dropTestDatabase();
});

const life: AnyEnvelope[] = [
  opened(),
  slackPosted('root', 0),
  pagerCreated(0),
  repeated(2, 5),
  resolved(20, 2),
];

describe('history', () => {
  it('projects an incident, its Slack thread, its pager alert, its repeats and its resolution', async () => {
    await producer.send(life);
    service = await start();

    const listed = await waitFor(
      async () => {
        const { body } = await get('/api/incidents?status=resolved');
        return body.incidents.find((i: any) => i.incident_id === INCIDENT_ID && i.slack_root_ts && i.pager_alert_id);
      },
      { what: 'the resolved incident with its thread and pager alert' },
    );
    expect(listed).toMatchObject({
      alias: ALIAS,
      status: 'resolved',
      count: 2,
      slack_channel: 'C0123ALERTS',
      slack_target_channel: '#alerts',
      slack_root_ts: '1740823200.000100',
      pager_alert_id: 'a1b2c3d4-alert',
      pager_priority: 'P1',
      resolved_at: '2025-03-01T10:20:00.000Z',
      labels: { alertname: 'HighErrorRate', service: 'api' },
      links: [{ title: 'runbook', url: 'https://runbooks.example/api' }],
      rule: RULE,
    });

    const { status, body } = await get(`/api/incidents/${INCIDENT_ID}`);
    expect(status).toBe(200);
    expect(body.timeline.map((e: any) => [e.type, e.topic])).toEqual([
      ['IncidentOpened', TOPICS.incidents],
      ['SlackMessagePosted', TOPICS.deliveries],
      ['PagerAlertCreated', TOPICS.deliveries],
      ['IncidentRepeated', TOPICS.incidents],
      ['IncidentResolved', TOPICS.incidents],
    ]);
    expect(body.timeline[0]).toMatchObject({ reason: 'first-notification', rule: RULE, data: life[0]!.data });
    for (const entry of body.timeline) {
      expect(entry).toMatchObject({ partition: expect.any(Number), offset: expect.stringMatching(/^\d+$/) });
    }
    expect(body.timeline.map((e: any) => e.event_id)).toEqual(life.map((e) => e.id));
    expect(body.deliveries.map((d: any) => [d.type, d.ok])).toEqual([
      ['SlackMessagePosted', true],
      ['PagerAlertCreated', true],
    ]);
    expect((await get('/readyz')).status).toBe(200);
    await waitFor(async () => (await metric('alertbus_history_events_applied_total')) === 5, { what: '5 applied' });
  });

  it('after a restart, even with Kafka offsets reset to the start, nothing is applied twice', async () => {
    const before = await counts();
    await service!.close();
    service = undefined;
    const admin = kafka.admin();
    await admin.connect();
    for (const topic of [TOPICS.incidents, TOPICS.deliveries]) {
      await waitFor(() => admin.resetOffsets({ groupId: GROUPS.history, topic, earliest: true }).then(() => true), {
        what: `reset of ${topic} offsets`,
      });
    }
    await admin.disconnect();
    service = await start();
    // One new event per topic, and one event written again (same id, new offset: a producer retry).
    await producer.send([suppressed(25, INCIDENT_ID), slackPosted('reply', 21), repeated(2, 5)]);

    await waitFor(async () => (await metric('alertbus_history_events_applied_total')) === 2 &&
      (await metric('alertbus_history_events_skipped_total', 'duplicate-id')) === 1, {
      what: 'the two new events applied and the rewritten one skipped',
    });
    expect(await counts()).toEqual({ ...before, timeline: before.timeline! + 2, deliveries: before.deliveries! + 1 });
    const { body } = await get(`/api/incidents/${INCIDENT_ID}`);
    expect(body.count).toBe(2);
    expect(body.timeline.map((e: any) => e.type)).toEqual([
      'IncidentOpened',
      'SlackMessagePosted',
      'PagerAlertCreated',
      'IncidentRepeated',
      'IncidentResolved',
      'SlackMessagePosted',
      'EventSuppressed',
    ]);
  });

  it('a delivery read before its incident is attached when the incident arrives', async () => {
    const reopenedId = deriveId('incident', ALIAS, 2);
    await producer.send([slackPosted('root', 30, { ts: '1740825000.000100', incidentId: reopenedId })]);
    await waitFor(
      async () => (await service!.pool.query('SELECT 1 FROM deliveries WHERE incident_id = $1', [reopenedId])).rowCount === 1,
      { what: 'the early delivery projected' },
    );
    expect((await get(`/api/incidents/${reopenedId}`)).status).toBe(404);

    await producer.send([opened({ at: 30, incidentId: reopenedId, occurrence: 2, previous: INCIDENT_ID })]);

    const incident = await waitFor(
      async () => {
        const { status, body } = await get(`/api/incidents/${reopenedId}`);
        return status === 200 ? body : null;
      },
      { what: 'the reopened incident' },
    );
    expect(incident).toMatchObject({
      status: 'open',
      occurrence: 2,
      previous_incident_id: INCIDENT_ID,
      slack_channel: 'C0123ALERTS',
      slack_root_ts: '1740825000.000100',
    });
    expect(incident.timeline.map((e: any) => e.type)).toEqual(['IncidentReopened', 'SlackMessagePosted']);

    const newest = await get('/api/incidents?limit=1');
    expect(newest.body.incidents.map((i: any) => i.incident_id)).toEqual([reopenedId]);
  });

  it('a record that fails its schema goes to the dead-letter topic and the projection goes on', async () => {
    const bad = { ...suppressed(40, INCIDENT_ID), id: 'not-a-valid-event', data: { reason: 'silenced' } };
    const raw = kafka.producer();
    await raw.connect();
    const [meta] = await raw.send({
      topic: TOPICS.incidents,
      messages: [{ key: ALIAS, value: JSON.stringify(bad), headers: { [HEADERS.eventType]: 'EventSuppressed' } }],
    });
    await raw.disconnect();
    const after = suppressed(41, INCIDENT_ID);
    await producer.send([after]);

    await waitFor(
      async () => (await get(`/api/incidents/${INCIDENT_ID}`)).body.timeline.some((e: any) => e.event_id === after.id),
      { what: 'the record after the bad one projected' },
    );
    const letters = await waitFor(async () => {
      const records = await readTopic(kafka, TOPICS.deadLetter);
      return records.length > 0 ? records : null;
    }, { what: 'a dead letter' });
    expect(letters).toHaveLength(1);
    const letter = letters[0]!.event!;
    expect(letter.type).toBe('DeadLettered');
    const data = letter.data as DeadLetter;
    expect(data).toMatchObject({
      consumer: GROUPS.history,
      origin: {
        topic: TOPICS.incidents,
        partition: meta!.partition,
        offset: meta!.baseOffset,
        key: ALIAS,
        value: JSON.stringify(bad),
        valueEncoding: 'utf8',
      },
    });
    expect(data.attempts[0]!.error).toMatch(/EventSuppressed data invalid/);
    expect(await metric('alertbus_history_dead_letters_total', 'invalid')).toBe(1);
    const { body } = await get(`/api/incidents/${INCIDENT_ID}`);
    expect(body.timeline.filter((e: any) => e.event_id === bad.id)).toEqual([]);
  });

  it('a valid event Postgres refuses to store is dead-lettered alone; the rest of its batch is applied', async () => {
    const base = suppressed(50, INCIDENT_ID);
    const poisoned = { ...base, occurredAt: '0000-01-01T00:00:00Z' } as AnyEnvelope; // valid RFC 3339, no year 0 in Postgres
    const next = suppressed(51, INCIDENT_ID);
    await producer.send([poisoned, next]);

    await waitFor(
      async () => (await get(`/api/incidents/${INCIDENT_ID}`)).body.timeline.some((e: any) => e.event_id === next.id),
      { what: 'the event after the refused one projected' },
    );
    const letters = await waitFor(async () => {
      const records = await readTopic(kafka, TOPICS.deadLetter);
      return records.length >= 2 ? records : null;
    }, { what: 'the second dead letter' });
    const refused = letters.map((r) => r.event!.data as DeadLetter).find((d) => d.origin.value?.includes(poisoned.id));
    expect(refused?.attempts[0]?.error).toMatch(/Postgres refused it/);
    expect(await metric('alertbus_history_dead_letters_total', 'unprojectable')).toBe(1);
    const { body } = await get(`/api/incidents/${INCIDENT_ID}`);
    expect(body.timeline.filter((e: any) => e.event_id === poisoned.id)).toEqual([]);
  });

  it.each([
    ['status=bogus', /query parameter "status".*open, acknowledged, resolved/],
    ['limit=0', /query parameter "limit"/],
    ['limit=501', /query parameter "limit".*500/],
    ['limit=ten', /query parameter "limit"/],
    ['severity=', /query parameter "severity"/],
    ['stauts=open', /unknown query parameter "stauts"/],
  ])('GET /api/incidents?%s is refused with 400 naming the parameter', async (query, message) => {
    const { status, body } = await get(`/api/incidents?${query}`);

    expect(status).toBe(400);
    expect(body).toEqual({ error: 'bad_request', message: expect.stringMatching(message) });
  });

  it('an unknown incident is a 404 with an error body', async () => {
    const { status, body } = await get('/api/incidents/no-such-incident');

    expect(status).toBe(404);
    expect(body).toEqual({ error: 'not_found', message: expect.stringContaining('no-such-incident') });
  });

  it('filters combine and the limit holds', async () => {
    const open = await get('/api/incidents?status=open&source=alertmanager&severity=critical');
    expect(open.body.incidents.map((i: any) => i.occurrence)).toEqual([2]);
    const byAlias = await get(`/api/incidents?alias=${encodeURIComponent(ALIAS)}&limit=500`);
    expect(byAlias.body.incidents.map((i: any) => i.occurrence)).toEqual([2, 1]);
    expect(byAlias.body.limit).toBe(500);
    expect((await get('/api/incidents?source=grafana')).body.incidents).toEqual([]);
  });
});
