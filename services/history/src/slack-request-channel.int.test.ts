/**
 * An incident opened by a Slack request (a mention of the app) has its thread from the start: the requester's
 * message, or the thread they asked in. history records that channel and ts, so `?channel=` finds the incident as it
 * finds an alert's. Before, both stayed null (no root post of ours ever comes for a request) and the filter missed it.
 */
import { ensureDatabase } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { deriveId, makeEnvelope, type Envelope } from '@alertbus/schemas';
import { dropTestDatabase } from '../../../test/support/db';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { startHistory, type HistoryService } from './index';

const TEAM = 'T0ALERTBUS';
const CHANNEL = 'C0ALERTS';
const RULE = { path: 'slack[0]', name: 'ops mentions', rulesVersion: 'sha256:2222' };

let producer: EventProducer;
let service: HistoryService | undefined;

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  producer = new EventProducer(await testKafka('history-slack-request'));
  await producer.connect();
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });
});

afterAll(async () => {
  await service?.close();
  await producer?.disconnect();
  await dropTestDatabase();
});

/** The IncidentOpened the router writes for "@alertbus the API is down" (packages/routing/src/slack/messages.ts). */
function requestOpened(ts: string, threadTs = ts): Envelope<'IncidentOpened'> {
  const alias = `slack:${TEAM}:${CHANNEL}:${ts}`;
  const inputId = deriveId('slack-input', alias);
  const incidentId = deriveId('incident', alias, 1);
  const at = '2026-03-01T10:00:00.000Z';
  return makeEnvelope({
    id: deriveId(inputId, 'opened', incidentId),
    type: 'IncidentOpened',
    alias,
    occurredAt: at,
    recordedAt: at,
    source: 'router',
    data: {
      incidentId,
      occurrence: 1,
      title: 'the API is down',
      severity: 'unknown',
      source: 'slack',
      status: 'open',
      count: 1,
      reason: 'first-notification',
      rule: RULE,
      inputId,
      labels: { channel: CHANNEL, channel_type: 'channel', kind: 'app_mention', team: TEAM, user: 'U0REQUESTER' },
      description: 'the API is down',
      links: [],
      openedAt: at,
      slackRequest: { team: TEAM, channel: CHANNEL, threadTs, ts, text: '<@U0ALERTBUS> the API is down', user: 'U0REQUESTER' },
    },
  }) as Envelope<'IncidentOpened'>;
}

async function incidentsOf(channel: string): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${service!.url}/api/incidents?channel=${encodeURIComponent(channel)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { incidents: Array<Record<string, unknown>> }).incidents;
}

test('a Slack request is found by its channel, with its thread', async () => {
  const asked = requestOpened('1772359200.000100');
  const inThread = requestOpened('1772359260.000200', '1772359100.000050');
  await producer.send([asked, inThread]);
  await waitFor(async () => (await service!.pool.query(`SELECT count(*)::int AS n FROM incidents`)).rows[0].n === 2, { what: 'both requests projected' });

  const found = await incidentsOf(CHANNEL);
  const byId = new Map(found.map((i) => [i.incident_id, i]));
  // The message asked in the channel starts the thread; one asked in a thread is answered in that thread.
  expect(byId.get(asked.data.incidentId)).toMatchObject({ source: 'slack', slack_channel: CHANNEL, slack_root_ts: '1772359200.000100' });
  expect(byId.get(inThread.data.incidentId)).toMatchObject({ source: 'slack', slack_channel: CHANNEL, slack_root_ts: '1772359100.000050' });
  expect(await incidentsOf('C0ELSEWHERE')).toEqual([]);
});
