/**
 * A slash command signed with the app's signing secret but carrying a response_url on a host that is not Slack's (a
 * leaked secret at work): ingest and the router (each its own process) take it as any other, and the slack-sink never
 * posts the answer there; who asked still reads it, through the Web API, where they typed it. Real Kafka, real
 * Postgres, the Slack stand-in and the foreign host over HTTP.
 */
import pino from 'pino';
import type { Consumer } from 'kafkajs';
import type { EventProducer } from '@alertbus/kafka';
import type { AnyEnvelope } from '@alertbus/schemas';
import { responseUrl, startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { dropTestDatabase } from '../../../test/support/db';
import { slackHeaders } from '../../../test/support/slack-requests';
import { Stack } from '../../../test/support/stack';
import { waitFor } from '../../../test/support/wait';
import { startSlackSink, type SlackSink } from './index';
import { baseSinkConfig, kafkaSide } from './test-support/collect';
import { startForeignHost, type ForeignHost } from './test-support/foreign-host';

const TOKEN = 'xoxb-foreign-url-test';
const SECRET = 'foreign-response-url-signing-secret-5e1a';
const TEAM = 'T0ALERTBUS';
const ASKER = 'U0ASKER';
const ALERTS = 'C0ALERTS';
/** Processes compiling their TypeScript on a loaded 2-core machine: a generous wait for a condition. */
const SLOW_MS = 180_000;

let standIn: SlackStandIn;
let foreign: ForeignHost;
let stack: Stack | undefined;
let sink: SlackSink | undefined;
let producer: EventProducer;
let collector: Consumer;
const seen: AnyEnvelope[] = [];
const silent = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

beforeAll(async () => {
  foreign = await startForeignHost();
  standIn = await startSlackStandIn({ tokens: [TOKEN], channels: [{ id: ALERTS, name: 'alerts', members: [ASKER] }], users: [{ id: ASKER, name: 'asker' }] });
  ({ producer, collector } = await kafkaSide('foreign-response-url-int', seen, silent));
  sink = await startSlackSink({ ...baseSinkConfig(TOKEN, standIn.url, silent), updateHoldMs: 0 });
  stack = new Stack({ SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: standIn.url });
  await Promise.all([stack.start('router'), stack.start('ingest')]);
}, SLOW_MS * 2);

afterAll(async () => {
  await stack?.stopAll();
  await sink?.close();
  await collector?.disconnect();
  await producer?.disconnect();
  await standIn?.close();
  await foreign?.close();
  await dropTestDatabase();
});

let unique = 0;

/** `/alertbus <text>` as Slack posts it, signed, with this response_url; a 503 (Kafka slow to answer) is sent again. */
async function slash(text: string, url: string): Promise<void> {
  const body = new URLSearchParams({
    team_id: TEAM,
    team_domain: 'alertbus-stand-in',
    channel_id: ALERTS,
    channel_name: 'alerts',
    user_id: ASKER,
    user_name: 'asker',
    command: '/alertbus',
    text,
    api_app_id: 'A0ALERTBUS',
    response_url: url,
    trigger_id: `${Date.now()}.${++unique}.foreign`,
  }).toString();
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${stack!.url('ingest')}/slack/commands`, {
      method: 'POST',
      headers: slackHeaders(body, SECRET, { contentType: 'application/x-www-form-urlencoded' }),
      body,
    });
    if (res.status === 200) return;
    if (res.status !== 503 || attempt === 5) throw new Error(`ingest answered ${res.status} ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

test('a signed slash command whose response_url is on a foreign host: nothing is posted there, who asked reads the answer through the Web API', async () => {
  await slash('help', `${foreign.url}/commands/${TEAM}/1/forged-secret-path`);

  const shown = await waitFor(() => standIn.state.ephemerals.find((m) => m.channel === ALERTS && m.user === ASKER), { what: 'the answer by chat.postEphemeral', timeoutMs: SLOW_MS });
  expect(shown.text).toContain('/alertbus');
  const answered = await waitFor(() => seen.find((e) => e.type === 'SlashCommandAnswered' || e.type === 'DeliveryFailed'), { what: 'the delivery result', timeoutMs: SLOW_MS });
  expect(answered.type).toBe('SlashCommandAnswered');
  expect(seen.filter((e) => e.type === 'DeadLettered')).toEqual([]);
  expect(foreign.requests).toEqual([]);
  expect(standIn.state.responses).toEqual([]);

  // The same command with a response_url of the stand-in (SLACK_API_URL's origin, as Slack's own host would be): answered there.
  const id = `${TEAM}/2/genuine`;
  await slash('help', responseUrl(standIn.url, id));
  const atUrl = await waitFor(() => standIn.state.responses.find((r) => r.id === id), { what: 'the answer at the stand-in\'s response_url', timeoutMs: SLOW_MS });
  expect(String((atUrl.body as { text?: string }).text)).toContain('/alertbus');
  expect(standIn.state.ephemerals).toHaveLength(1);
  expect(foreign.requests).toEqual([]);
}, SLOW_MS * 2);
