/**
 * kill -9 of the router, of the slack-sink and of the opsgenie-sink, each in the middle of a stream of 1,000
 * alerts, then a restart: every incident exists exactly once, no Slack message is posted twice and no pager
 * alert is created twice.
 */
import { TOPICS } from '@alertbus/schemas';
import { dropTestDatabase } from '../support/db';
import { readTopic, testKafka } from '../support/kafka';
import { postAll, rulesWithoutStormControl, startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

let full: FullStack;

interface StandInMessage {
  ts: string;
  thread_ts?: string;
  text: string;
  metadata?: { event_type: string; event_payload: { command_id: string; incident_id: string } };
}

const messages = async (): Promise<StandInMessage[]> => full.slack.state.messages as StandInMessage[];
const pagerCalls = async () => full.opsgenie.state.calls;

const ALIASES = 400;
const fp = (i: number) => `crash${String(i).padStart(11, '0')}`;
function payload(i: number, status: 'firing' | 'resolved'): string {
  return JSON.stringify({
    version: '4',
    status,
    receiver: 'alertbus',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://am.example',
    alerts: [
      {
        status,
        labels: { alertname: 'CrashTest', severity: i % 2 ? 'critical' : 'warning', instance: `host-${i}` },
        annotations: { summary: `crash test alert ${i}` },
        startsAt: '2026-11-22T08:00:00Z',
        endsAt: status === 'resolved' ? '2026-11-22T09:00:00Z' : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prom.example/graph',
        fingerprint: fp(i),
      },
    ],
  });
}

const sendAll = (bodies: string[]) => postAll(full.stack, '/webhooks/alertmanager', bodies);

beforeAll(async () => {
  // 400 incidents opened at once are what this test counts one by one; the default storm control would gather them.
  full = await startFullStack({ ROUTING_RULES: rulesWithoutStormControl() });
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('1,000 alerts with kill -9 of router, slack-sink and opsgenie-sink midway', async () => {
  const firing = Array.from({ length: ALIASES }, (_, i) => payload(i, 'firing'));
  const repeats = Array.from({ length: 300 }, (_, i) => payload(i, 'firing'));
  const resolves = Array.from({ length: 300 }, (_, i) => payload(i, 'resolved'));

  // Router killed while the first wave is being decided.
  const wave1 = sendAll(firing);
  await waitFor(async () => (await messages()).length >= 40, { what: 'the first posts', intervalMs: 20 });
  await full.stack.kill9('router');
  await wave1;
  await full.stack.start('router');

  // slack-sink killed in the middle of posting.
  await waitFor(async () => (await messages()).length >= 150, { what: 'posts under way', intervalMs: 20 });
  await full.stack.kill9('slack-sink');
  await full.stack.start('slack-sink');

  // opsgenie-sink killed in the middle of the repeats and resolves.
  const wave2 = sendAll([...repeats, ...resolves]);
  await waitFor(async () => (await pagerCalls()).length >= 250, { what: 'pager calls under way', intervalMs: 20 });
  await full.stack.kill9('opsgenie-sink');
  await wave2;
  await full.stack.start('opsgenie-sink');

  // Everything settles: 400 roots, 300 resolved replies, 400 creates, 300 closes.
  await waitFor(
    async () => {
      const msgs = await messages();
      const calls = await pagerCalls();
      return (
        msgs.filter((m) => !m.thread_ts).length >= ALIASES &&
        msgs.filter((m) => m.thread_ts && /resolved/i.test(m.text)).length >= 300 &&
        calls.filter((c) => c.route === 'close' && c.status === 202).length >= 300
      );
    },
    { what: 'all deliveries', timeoutMs: 180_000, intervalMs: 500 },
  );

  const msgs = await messages();
  const roots = msgs.filter((m) => !m.thread_ts);
  const rootIncidents = roots.map((m) => m.metadata?.event_payload.incident_id);
  expect(roots).toHaveLength(ALIASES);
  expect(new Set(rootIncidents).size).toBe(ALIASES);
  const commandIds = msgs.map((m) => m.metadata?.event_payload.command_id).filter(Boolean);
  expect(new Set(commandIds).size).toBe(commandIds.length); // no command posted twice

  const creates = (await pagerCalls()).filter((c) => c.route === 'create' && c.status === 202);
  const createdAliases = creates.map((c) => (c.body as { alias?: string }).alias);
  expect(creates).toHaveLength(ALIASES);
  expect(new Set(createdAliases).size).toBe(ALIASES);

  const kafka = await testKafka('crash-check');
  const incidents = (await readTopic(kafka, TOPICS.incidents)).map((r) => r.event!).filter(Boolean);
  const opened = incidents.filter((e) => e.type === 'IncidentOpened');
  expect(opened).toHaveLength(ALIASES);
  expect(new Set(incidents.map((e) => e.id)).size).toBe(incidents.length); // each decision once
  expect(incidents.filter((e) => e.type === 'IncidentRepeated')).toHaveLength(300);
  expect(incidents.filter((e) => e.type === 'IncidentResolved')).toHaveLength(300);

  await waitFor(
    async () => {
      const open = await full.json<{ incidents: unknown[] }>('history', '/api/incidents?status=open&limit=500');
      const resolved = await full.json<{ incidents: unknown[] }>('history', '/api/incidents?status=resolved&limit=500');
      return open.incidents.length === ALIASES - 300 && resolved.incidents.length === 300;
    },
    { what: 'history shows every incident once', timeoutMs: 60_000 },
  );
});
