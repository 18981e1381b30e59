/**
 * The foundation's promise, end to end over HTTP with every service as its own process:
 * an Alertmanager group of two firing alerts becomes two incidents, two Slack threads and two pager alerts;
 * the same payload again only counts repeats; the resolved payload closes everything.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { dropTestDatabase } from '../support/db';
import { startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const fixture = (p: string) => readFileSync(resolve(__dirname, '../../../shared/fixtures', p), 'utf8');

let full: FullStack;

interface StandInMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  updates?: number;
}
interface StandInAlert {
  alias: string;
  status: string;
  count: number;
}

const json = <T>(path: string) => full.json<T>('history', path);
const messages = async (): Promise<StandInMessage[]> => full.slack.state.messages;
const alerts = async (): Promise<StandInAlert[]> => full.opsgenie.state.alerts;

function post(body: string) {
  return fetch(`${full.stack.url('ingest')}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

beforeAll(async () => {
  full = await startFullStack();
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('two firing alerts → two threads and two pager alerts; repeat counted; resolve closes both', async () => {
  const firing = fixture('alertmanager/zulip_firing_two_alerts.json');
  const aliases = ['alertmanager:a1bc48475b20e73d', 'alertmanager:c2ea85182f28cbd9'];

  const first = await post(firing);
  expect(first.status).toBe(202);

  await waitFor(async () => (await messages()).filter((m) => !m.thread_ts).length === 2 && (await alerts()).length === 2, {
    what: 'two root posts and two pager alerts',
  });
  expect((await alerts()).map((a) => a.alias).sort()).toEqual(aliases);
  expect((await messages()).every((m) => m.channel === 'C0ALERTS')).toBe(true);

  // The same payload again: counted as a repeat, no new post, no new create.
  expect((await post(firing)).status).toBe(202);
  await waitFor(
    async () => {
      const { incidents } = await json<{ incidents: Array<{ count: number }> }>('/api/incidents?status=open');
      return incidents.length === 2 && incidents.every((i) => i.count === 2);
    },
    { what: 'both incidents counted twice' },
  );
  expect((await messages()).filter((m) => !m.thread_ts)).toHaveLength(2);
  const creates = full.opsgenie.state.calls.filter((c) => c.route === 'create' && c.status === 202);
  expect(creates).toHaveLength(2);

  // Resolved: a reply in each thread, each root updated, each pager alert closed by alias.
  const resolvedPayload = JSON.parse(firing);
  resolvedPayload.status = 'resolved';
  for (const a of resolvedPayload.alerts) a.status = 'resolved';
  expect((await post(JSON.stringify(resolvedPayload))).status).toBe(202);

  await waitFor(async () => (await alerts()).every((a) => a.status === 'closed'), { what: 'both pager alerts closed' });
  await waitFor(
    async () => {
      const msgs = await messages();
      const roots = msgs.filter((m) => !m.thread_ts);
      const replies = msgs.filter((m) => m.thread_ts);
      return (
        roots.every((r) => (r.updates ?? 0) >= 1) &&
        roots.every((r) => replies.some((rep) => rep.thread_ts === r.ts && /resolved/i.test(rep.text)))
      );
    },
    { what: 'a resolved reply in each thread and each root updated' },
  );

  const { incidents } = await waitFor(
    async () => {
      const r = await json<{ incidents: Array<{ incident_id: string; status: string; alias: string }> }>(
        '/api/incidents?status=resolved',
      );
      return r.incidents.length === 2 ? r : undefined;
    },
    { what: 'both incidents resolved in the history API' },
  );
  expect(incidents.map((i) => i.alias).sort()).toEqual(aliases);
  // The incident row turns resolved from incidents.v1; PagerAlertClosed comes on deliveries.v1 and may be
  // projected a moment later, so the timeline is awaited until it holds every fact, not read once.
  const expectedTypes = ['IncidentOpened', 'IncidentRepeated', 'IncidentResolved', 'SlackMessagePosted', 'PagerAlertCreated', 'PagerAlertClosed'];
  for (const inc of incidents) {
    const id = inc.incident_id;
    const detail = await waitFor(
      async () => {
        const d = await json<{ timeline: Array<{ type: string; topic: string; offset: string | number }> }>(`/api/incidents/${id}`);
        const types = new Set(d.timeline.map((t) => t.type));
        return expectedTypes.every((t) => types.has(t)) ? d : undefined;
      },
      { what: `the timeline of ${id} to hold ${expectedTypes.join(', ')}` },
    );
    expect(detail.timeline.map((t) => t.type)).toEqual(expect.arrayContaining(expectedTypes));
    expect(detail.timeline.every((t) => t.topic && t.offset !== undefined)).toBe(true);
  }
});

test('a pager alert made as a warning (P3) is raised to P1 when its alert turns critical under the same alias, with a note and a reply in its thread', async () => {
  const alias = 'generic:checkout-latency-7f3a';
  const send = (severity: string) =>
    fetch(`${full.stack.url('ingest')}/webhooks/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Checkout latency 7f3a', alias: 'checkout-latency-7f3a', severity, labels: { service: 'checkout' } }),
    });
  expect((await send('warning')).status).toBe(202);
  const page = await waitFor(() => full.opsgenie.state.alerts.find((a) => a.alias === alias), { what: 'the warning paged' });
  expect(page.priority).toBe('P3');

  expect((await send('critical')).status).toBe(202);
  await waitFor(() => page.priority === 'P1', { what: 'the page raised to P1' });
  expect(full.opsgenie.state.alerts.filter((a) => a.alias === alias)).toHaveLength(1);
  // The note is a command of its own, executed after the priority's.
  await waitFor(() => page.notes.some((n) => n.note === 'Page raised from P3 to P1: the alert now routes to a higher priority.'), { what: 'the note on the page' });
  const root = (await messages()).find((m) => !m.thread_ts && m.text.includes('Checkout latency 7f3a'))!;
  await waitFor(async () => (await messages()).some((m) => m.thread_ts === root.ts && m.text.startsWith('Page raised from P3 to P1')), {
    what: 'the reply in its thread',
  });

  // The history: the incident's priority is the page's, and its timeline holds the command and its delivery.
  const incident = await waitFor(
    async () => {
      const r = await json<{ incidents: Array<{ incident_id: string; alias: string; pager_priority: string | null }> }>(`/api/incidents?q=${encodeURIComponent('Checkout latency 7f3a')}`);
      return r.incidents.find((i) => i.alias === alias && i.pager_priority === 'P1');
    },
    { what: 'the incident at P1 in the history' },
  );
  await waitFor(
    async () => {
      const d = await json<{ timeline: Array<{ type: string }> }>(`/api/incidents/${incident.incident_id}`);
      const types = d.timeline.map((t) => t.type);
      return types.includes('UpdatePagerPriority') && types.includes('PagerPriorityUpdated');
    },
    { what: 'UpdatePagerPriority and PagerPriorityUpdated in its timeline' },
  );
});

test('a record that fails its schema on any consumed topic is dead-lettered and every consumer goes on', async () => {
  const { createKafka, TOPICS } = await import('@alertbus/kafka');
  const { readTopic } = await import('../support/kafka');
  const kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'e2e-garbage' });
  const producer = kafka.producer({ createPartitioner: (await import('kafkajs')).Partitioners.DefaultPartitioner });
  await producer.connect();
  const poisoned = [TOPICS.alertsReceived, TOPICS.slackCommands, TOPICS.pagerCommands, TOPICS.incidents, TOPICS.deliveries];
  for (const topic of poisoned) {
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'garbage:1', value: '{"this is": "not an event"}', headers: { written: 'by hand' } },
        { key: 'garbage:2', value: 'not even json' },
      ],
    });
  }
  await producer.disconnect();

  // Each consumer dead-letters both records with their origin and reason…
  const dead = await waitFor(
    async () => {
      const records = (await readTopic(kafka, TOPICS.deadLetter)).map((r) => r.event).filter(Boolean);
      const origins = new Set(
        records.map((e) => {
          const d = e!.data as { origin: { topic: string; key: string } };
          return `${d.origin.topic}|${d.origin.key}`;
        }),
      );
      return poisoned.every((t) => origins.has(`${t}|garbage:1`) && origins.has(`${t}|garbage:2`)) ? records : undefined;
    },
    { what: 'dead letters from every consumer' },
  );
  const sample = dead.find((e) => (e!.data as { origin: { key: string } }).origin.key === 'garbage:2')!;
  const data = sample.data as { origin: { value: string; headers: Record<string, string> }; attempts: Array<{ error: string }> };
  expect(data.origin.value).toBe('not even json');
  expect(data.attempts[0]!.error).toMatch(/not JSON/);

  // …and the pipeline still routes the next alert.
  const before = (await messages()).length;
  const next = JSON.parse(fixture('alertmanager/zulip_resolved_single.json'));
  next.status = 'firing';
  next.alerts[0].status = 'firing';
  next.alerts[0].fingerprint = 'after0garbage001';
  expect((await post(JSON.stringify(next))).status).toBe(202);
  await waitFor(async () => (await messages()).length > before, { what: 'a post after the garbage' });
});
