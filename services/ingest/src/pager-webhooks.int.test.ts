/**
 * POST /webhooks/opsgenie and /webhooks/jsm on a real ingest and Kafka: the body Opsgenie's Webhook integration sends
 * (https://docs.opsgenie.com/docs/marid-alert-action-data) is written as PagerActionReceived keyed by the pager alias;
 * a sender without a named token, one that is neither the pager's own nor in INGEST_PAGER_SENDERS, and a body without an
 * alert alias, are refused and nothing is written.
 */
import { createLogger } from '@alertbus/common';
import { TOPICS } from '@alertbus/schemas';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { docsActionBody } from '../../../test/support/opsgenie-webhook';
import { startIngest, type RunningIngest } from './index';
import { settled } from './test-support/retry';

const ADMIN = 'admin-token-0123456789';
const OPSGENIE = 'opsgenie-token-0123456789';
const JSM = 'jsm-token-0123456789';
const RELAY = 'relay-token-0123456789';
/** An alert source's token: it may send alerts, never acknowledge or close an incident. */
const ALERTMANAGER = 'alertmanager-token-0123456789';
const ALIAS = 'alertmanager:c2ea85182f28cbd9';

let ingest: RunningIngest;
/** The same senders, with INGEST_PAGER_SENDERS=relay. */
let relayed: RunningIngest;

const TOKENS = [
  { name: 'opsgenie', token: OPSGENIE },
  { name: 'jsm', token: JSM },
  { name: 'relay', token: RELAY },
  { name: 'alertmanager', token: ALERTMANAGER },
];

const start = (pagerSenders?: string[]) =>
  startIngest(
    {
      port: 0,
      host: '127.0.0.1',
      token: ADMIN,
      tokens: TOKENS,
      ...(pagerSenders ? { pagerSenders } : {}),
      bodyLimit: 1024 * 1024,
      kafkaBrokers: testBrokers(),
      kafkaTimeoutMs: 10_000,
    },
    { log: createLogger('ingest-pager-test', 'silent') },
  );

beforeAll(async () => {
  [ingest, relayed] = await Promise.all([start(), start(['relay'])]);
});

afterAll(async () => {
  await Promise.all([ingest?.close(), relayed?.close()]);
});

const post = (path: string, token: string | undefined, body: unknown, to: RunningIngest = ingest) =>
  fetch(`${to.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

/** The docs' Acknowledge sample, on alertbus's alias. */
const acknowledge = (alias: string, username = 'pager-person') =>
  docsActionBody('Acknowledge', { id: '052652ac-5d1c-464a-812a-7dd18bbfba8c', alias, tinyId: '23', createdAt: '2015-01-05T10:03:11.104Z' }, username);

test('an Opsgenie Acknowledge is written as PagerActionReceived under the pager alias, with who acked and which token sent it', async () => {
  const res = await post('/webhooks/opsgenie', OPSGENIE, acknowledge(ALIAS));
  expect(res.status).toBe(202);
  const { ids } = (await res.json()) as { ids: string[] };
  const kafka = await settled(() => testKafka('ingest-pager-test'));
  const records = await settled(() => readTopic(kafka, TOPICS.alertsReceived));
  const record = records.find((r) => r.event?.id === ids[0]);
  expect(record?.key).toBe(ALIAS);
  expect(record?.event).toMatchObject({
    type: 'PagerActionReceived',
    alias: ALIAS,
    source: 'ingest/opsgenie',
    data: {
      provider: 'opsgenie',
      action: 'Acknowledge',
      alertId: '052652ac-5d1c-464a-812a-7dd18bbfba8c',
      pagerAlias: ALIAS,
      user: 'pager-person',
      alertCreatedAt: '2015-01-05T10:03:11.104Z',
      integrationName: 'alertbus',
      authenticatedAs: 'opsgenie',
      raw: { action: 'Acknowledge' },
    },
  });
});

test('JSM Operations posts the same body to /webhooks/jsm', async () => {
  const res = await post('/webhooks/jsm', JSM, { ...acknowledge('alertmanager:jsm1'), action: 'Close' });
  expect(res.status).toBe(202);
  expect(await res.json()).toMatchObject({ accepted: 1, aliases: ['alertmanager:jsm1'] });
});

test.each([
  ['no token', undefined, 401, /bearer token/],
  ['the unnamed INGEST_TOKEN (no identity to record)', ADMIN, 401, /named INGEST_TOKENS entry/],
])('a request with %s is refused', async (_name, token, status, message) => {
  const res = await post('/webhooks/opsgenie', token, acknowledge('alertmanager:refused'));
  expect(res.status).toBe(status);
  expect(((await res.json()) as { message: string }).message).toMatch(message);
});

test('a body without the alert\'s alias is a 400 that names it', async () => {
  const body = acknowledge(ALIAS);
  const { alias: _alias, ...alert } = body.alert;
  const res = await post('/webhooks/opsgenie', OPSGENIE, { ...body, alert });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { message: string }).message).toMatch(/alias/);
});

test('the opsgenie and jsm tokens are each refused (403) on the other\'s route, nothing written', async () => {
  for (const [route, token, named] of [['/webhooks/jsm', OPSGENIE, 'opsgenie'], ['/webhooks/opsgenie', JSM, 'jsm']] as const) {
    const res = await post(route, token, acknowledge(`alertmanager:crossed-${named}`));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(new RegExp(`"${named}" .*/webhooks/${named}, not ${route}`));
  }
  const kafka = await settled(() => testKafka('ingest-pager-test'));
  const records = await settled(() => readTopic(kafka, TOPICS.alertsReceived));
  expect(records.filter((r) => r.key?.startsWith('alertmanager:crossed-'))).toEqual([]);
});

test('any other sender is refused (403, naming it and INGEST_PAGER_SENDERS) on both routes, even with a valid body; nothing written', async () => {
  for (const route of ['/webhooks/opsgenie', '/webhooks/jsm']) {
    for (const [name, token] of [['relay', RELAY], ['alertmanager', ALERTMANAGER]] as const) {
      // The close of an incident "in Opsgenie by" anyone: what an alert source's leaked token must not do.
      const res = await post(route, token, { ...acknowledge(`alertmanager:unlisted-${name}`, 'ceo@example.com'), action: 'Close' });
      expect(res.status).toBe(403);
      const { message } = (await res.json()) as { message: string };
      expect(message).toContain(`sender "${name}" may not post pager actions`);
      expect(message).toContain(`add "${name}" to INGEST_PAGER_SENDERS`);
      expect(message).toContain(`named ${route.slice('/webhooks/'.length)} in INGEST_TOKENS`);
    }
  }
  const kafka = await settled(() => testKafka('ingest-pager-test'));
  const records = await settled(() => readTopic(kafka, TOPICS.alertsReceived));
  expect(records.filter((r) => r.key?.startsWith('alertmanager:unlisted-'))).toEqual([]);
});

test('a sender listed in INGEST_PAGER_SENDERS posts to both routes; the others and the crossed pager tokens stay refused', async () => {
  for (const route of ['/webhooks/opsgenie', '/webhooks/jsm']) expect((await post(route, RELAY, acknowledge('alertmanager:relayed'), relayed)).status).toBe(202);
  expect((await post('/webhooks/opsgenie', ALERTMANAGER, acknowledge('alertmanager:relayed-not'), relayed)).status).toBe(403);
  expect((await post('/webhooks/jsm', OPSGENIE, acknowledge('alertmanager:relayed-not'), relayed)).status).toBe(403);
  expect((await post('/webhooks/opsgenie', OPSGENIE, acknowledge('alertmanager:relayed-own'), relayed)).status).toBe(202);
  const kafka = await settled(() => testKafka('ingest-pager-test'));
  const records = await settled(() => readTopic(kafka, TOPICS.alertsReceived));
  expect(records.filter((r) => r.key === 'alertmanager:relayed-not')).toEqual([]);
  expect(records.filter((r) => r.key === 'alertmanager:relayed').map((r) => r.event?.data)).toEqual(
    expect.arrayContaining([expect.objectContaining({ provider: 'opsgenie', authenticatedAs: 'relay' }), expect.objectContaining({ provider: 'jsm', authenticatedAs: 'relay' })]),
  );
});
