/**
 * No secret ever reaches a log. The whole stack runs as processes with every secret set to a distinctive value
 * (Slack bot token and signing secret, Opsgenie key, ingest token, history API tokens, a database password) and
 * logging at trace. Every path that could log one is driven: authentication failures with wrong and misplaced
 * tokens, Slack and pager calls and their failures (including an upstream that echoes the credential back),
 * bad requests, and a start with a bad configuration. Then every line every service wrote is searched for
 * every secret. The logs stay in test-artifacts/logs/<prefix>/ for a reader.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startOpsgenieStandIn, startSlackStandIn, SLACK_STAND_IN_BOT, type OpsgenieStandIn, type SlackStandIn } from '@alertbus/stand-ins';
import { dropTestDatabase } from '../support/db';
import { Stack, type ServiceName } from '../support/stack';
import { waitFor } from '../support/wait';

const fixture = (p: string) => JSON.parse(readFileSync(resolve(__dirname, '../../../shared/fixtures', p), 'utf8')) as Record<string, any>;

const run = randomBytes(5).toString('hex');
const VIEWER_TOKEN = `hist-viewer-${run}-canary`;
const OPERATOR_TOKEN = `hist-operator-${run}-canary`;
const ADMIN_TOKEN = `hist-admin-${run}-canary`;
const SECRETS: Record<string, string> = {
  SLACK_BOT_TOKEN: `xoxb-${run}-slack-bot-canary`,
  SLACK_SIGNING_SECRET: `slack-signing-${run}-canary`,
  OPSGENIE_API_KEY: randomUUID(),
  INGEST_TOKEN: `ingest-${run}-canary`,
  'history viewer token': VIEWER_TOKEN,
  'history operator token': OPERATOR_TOKEN,
  'history admin token': ADMIN_TOKEN,
  'DATABASE_URL password': `dbpw${run}canary`,
};
const SERVICES: ServiceName[] = ['history', 'router', 'slack-sink', 'opsgenie-sink', 'ingest'];

let slack: SlackStandIn;
let opsgenie: OpsgenieStandIn;
let stack: Stack;

const databaseUrl = () => {
  const u = new URL(process.env.DATABASE_URL!);
  u.password = SECRETS['DATABASE_URL password']!;
  return u.toString();
};

async function send(service: ServiceName, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(`${stack.url(service)}${path}`, { method: opts.method ?? 'POST', headers: opts.headers, body: opts.body });
  return { status: res.status, text: await res.text() };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };

function slackSigned(body: string, opts: { secret?: string; age?: number; contentType?: string } = {}): Record<string, string> {
  const ts = String(Math.floor(Date.now() / 1000) - (opts.age ?? 0));
  const sig = `v0=${createHmac('sha256', opts.secret ?? SECRETS.SLACK_SIGNING_SECRET!).update(`v0:${ts}:${body}`).digest('hex')}`;
  return { 'content-type': opts.contentType ?? 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig };
}

function firingAlert(fingerprint: string): string {
  const body = fixture('alertmanager/zulip_resolved_single.json');
  body.status = 'firing';
  body.alerts[0].status = 'firing';
  body.alerts[0].fingerprint = fingerprint;
  return JSON.stringify(body);
}

async function timelineTypes(alias: string): Promise<string[]> {
  const res = await fetch(`${stack.url('history')}/api/timeline?alias=${encodeURIComponent(alias)}`, { headers: bearer(ADMIN_TOKEN) });
  if (!res.ok) return [];
  return ((await res.json()) as { events: Array<{ type: string }> }).events.map((e) => e.type);
}

function logs(): Map<string, string> {
  return new Map(readdirSync(stack.logDir).map((f) => [f, readFileSync(join(stack.logDir, f), 'utf8')]));
}

beforeAll(async () => {
  slack = await startSlackStandIn({
    tokens: [SECRETS.SLACK_BOT_TOKEN!],
    channels: [
      { id: 'C0ALERTS', name: 'alerts' },
      { id: 'C0OPS', name: 'ops' },
    ],
    users: [{ id: 'U0ALICE', name: 'alice', email: 'alice@example.com' }],
  });
  opsgenie = await startOpsgenieStandIn({ apiKeys: [SECRETS.OPSGENIE_API_KEY!], onCall: { ops: ['alice@example.com'] } });
  stack = new Stack(
    {
      SLACK_BOT_TOKEN: SECRETS.SLACK_BOT_TOKEN,
      SLACK_SIGNING_SECRET: SECRETS.SLACK_SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      SLACK_DEFAULT_CHANNEL: '#alerts',
      OPSGENIE_API_KEY: SECRETS.OPSGENIE_API_KEY,
      OPSGENIE_API_URL: opsgenie.url,
      ONCALL_SCHEDULE: 'ops',
      INGEST_TOKEN: SECRETS.INGEST_TOKEN,
      HISTORY_API_TOKENS: `wall:viewer:${VIEWER_TOKEN},alice:operator:${OPERATOR_TOKEN},root:admin:${ADMIN_TOKEN}`,
      // With tokens set every read needs one, on loopback too: ingest and the slack-sink read the history with this.
      HISTORY_TOKEN: VIEWER_TOKEN,
      DATABASE_URL: databaseUrl(),
    },
    { logLevel: 'trace' },
  );

  // Starts that fail on their configuration print why, and nothing of the secrets they were given.
  await expect(stack.start('history', { HISTORY_API_TOKENS: `root:superuser:${ADMIN_TOKEN}` })).rejects.toThrow(/exited during start/);
  await expect(stack.start('history', { HISTORY_API_TOKENS: `alice:operator:${OPERATOR_TOKEN},bob:viewer:${OPERATOR_TOKEN}` })).rejects.toThrow(
    /exited during start/,
  );
  // A database it cannot reach is waited for, saying so at each attempt (with the reason, without the password).
  const unreachable = new URL(databaseUrl());
  unreachable.port = '1';
  // It never becomes ready; how long it takes to get to its first attempt is the machine's (a loaded 2-core machine
  // compiles for longer than 15 s), so a start that gave up before any attempt is made again with a longer wait.
  const waited = /"reason":"connect ECONNREFUSED[^\n]*Postgres not reachable yet: waiting for it/;
  for (const readyTimeoutMs of [15_000, 45_000, 120_000]) {
    await expect(stack.start('history', { DATABASE_URL: unreachable.toString() }, { readyTimeoutMs })).rejects.toThrow(/did not become ready within/);
    if (waited.test(readFileSync(stack.logFile('history'), 'utf8'))) break;
  }
  expect(readFileSync(stack.logFile('history'), 'utf8')).toMatch(waited);

  // The first auth.test is refused: ingest logs it and asks again.
  slack.state.failNext('auth.test', { ok: false, error: 'invalid_auth' }, 1);
  await Promise.all(SERVICES.map((n) => stack.start(n)));
});

afterAll(async () => {
  await stack?.stopAll();
  await slack?.close();
  await opsgenie?.close();
  await dropTestDatabase();
});

test('no token, key, signing secret or password appears in any service log', async () => {
  // Ingest: no token, another service's token, a malformed header, then the right token with bad bodies and a good one.
  const alert1 = firingAlert('5ec2e7a1c0ffee01');
  expect((await send('ingest', '/webhooks/alertmanager', { headers: json, body: alert1 })).status).toBe(401);
  expect((await send('ingest', '/webhooks/alertmanager', { headers: { ...json, ...bearer(OPERATOR_TOKEN) }, body: alert1 })).status).toBe(401);
  expect((await send('ingest', '/webhooks/alertmanager', { headers: { ...json, authorization: `Token ${SECRETS.INGEST_TOKEN}` }, body: alert1 })).status).toBe(401);
  expect((await send('ingest', '/webhooks/alertmanager', { headers: { ...json, ...bearer(SECRETS.INGEST_TOKEN!) }, body: '{"alerts": [' })).status).toBe(400);
  expect((await send('ingest', '/webhooks/generic', { headers: { ...json, ...bearer(SECRETS.INGEST_TOKEN!) }, body: '{"nope": true}' })).status).toBe(400);

  // Slack and the pager fail first: a 500 that echoes the credential back, then a rate limit, then they accept.
  slack.state.failNext('chat.postMessage', { status: 500, body: { ok: false, error: 'internal_error', echo: `Authorization: Bearer ${SECRETS.SLACK_BOT_TOKEN}` } }, 1);
  slack.state.failNext('chat.postMessage', { status: 429, retryAfter: 1 }, 1);
  opsgenie.state.failNext('create', { status: 502, body: `<html>bad gateway for Authorization: GenieKey ${SECRETS.OPSGENIE_API_KEY}</html>` }, 1);
  opsgenie.state.failNext('create', { status: 429, retryAfter: 1 }, 1);
  expect((await send('ingest', '/webhooks/alertmanager', { headers: { ...json, ...bearer(SECRETS.INGEST_TOKEN!) }, body: alert1 })).status).toBe(202);
  await waitFor(async () => {
    const types = await timelineTypes('alertmanager:5ec2e7a1c0ffee01');
    return types.includes('SlackMessagePosted') && types.includes('PagerAlertCreated');
  }, { what: 'the first alert posted and paged after the failures' });

  // Then both refuse: Slack says the token is invalid (with SLACK_BOT_TOKEN alone the post waits until the token is
  // taken again, here at the next attempt), the pager that the request is unprocessable (for good).
  slack.state.failNext('chat.postMessage', { ok: false, error: 'invalid_auth' }, 1);
  opsgenie.state.failNext('create', { status: 422, body: { message: `Key ${SECRETS.OPSGENIE_API_KEY} is not valid`, took: 0.001, requestId: randomUUID() } }, 1);
  expect((await send('ingest', '/webhooks/alertmanager', { headers: { ...json, ...bearer(SECRETS.INGEST_TOKEN!) }, body: firingAlert('5ec2e7a1c0ffee02') })).status).toBe(202);
  await waitFor(async () => {
    const types = await timelineTypes('alertmanager:5ec2e7a1c0ffee02');
    return types.includes('DeliveryFailed') && types.includes('DeliveryDelayed') && types.includes('SlackMessagePosted');
  }, { what: 'the page of the second alert failed for good, its Slack post waited out the refused token' });

  // Slack requests: forged, stale, then a signed mention whose on-call lookup fails once before it answers.
  const challenge = JSON.stringify({ type: 'url_verification', token: 'legacy', challenge: 'c-123' });
  expect((await send('ingest', '/slack/events', { headers: slackSigned(challenge), body: challenge })).status).toBe(200);
  expect((await send('ingest', '/slack/events', { headers: slackSigned(challenge, { secret: SECRETS.INGEST_TOKEN }), body: challenge })).status).toBe(401);
  expect((await send('ingest', '/slack/events', { headers: slackSigned(challenge, { age: 3600 }), body: challenge })).status).toBe(401);
  const form = new URLSearchParams({ payload: JSON.stringify(fixture('slack/block_actions_button_docs_example.json')) }).toString();
  const forged = slackSigned(form, { secret: 'not-the-signing-secret', contentType: 'application/x-www-form-urlencoded' });
  expect((await send('ingest', '/slack/interactions', { headers: forged, body: form })).status).toBe(401);

  opsgenie.state.failNext('onCalls', { status: 500, body: { message: `internal error for GenieKey ${SECRETS.OPSGENIE_API_KEY}` } }, 1);
  const question = slack.state.addMessage({ channel: 'C0OPS', user: 'U0ALICE', text: `<@${SLACK_STAND_IN_BOT.userId}> who is on call?` });
  const mention = fixture('slack/event_callback_app_mention.json');
  mention.team_id = SLACK_STAND_IN_BOT.teamId;
  mention.event_id = `Ev${run}`;
  Object.assign(mention.event, { text: question.text, user: 'U0ALICE', ts: question.ts, event_ts: question.ts, channel: 'C0OPS', team: SLACK_STAND_IN_BOT.teamId });
  const mentionBody = JSON.stringify(mention);
  expect((await send('ingest', '/slack/events', { headers: slackSigned(mentionBody), body: mentionBody })).status).toBe(200);
  await waitFor(() => slack.state.messages.some((m) => m.channel === 'C0OPS' && m.thread_ts === question.ts && m.text.includes('<@U0ALICE>')), {
    what: 'the on-call answer in the thread',
  });

  // History: no token, another service's token, a Basic header, a viewer writing, an operator writing, an admin reading.
  const silence = JSON.stringify({ matchers: ['team="db"'], duration: '1h', comment: 'leak test' });
  expect((await send('history', '/api/silences', { headers: json, body: silence })).status).toBe(401);
  expect((await send('history', '/api/silences', { headers: { ...json, ...bearer(SECRETS.INGEST_TOKEN!) }, body: silence })).status).toBe(401);
  const basic = Buffer.from(`alice:${OPERATOR_TOKEN}`).toString('base64');
  expect((await send('history', '/api/silences', { headers: { ...json, authorization: `Basic ${basic}` }, body: silence })).status).toBe(401);
  expect((await send('history', '/api/silences', { headers: { ...json, ...bearer(VIEWER_TOKEN) }, body: silence })).status).toBe(403);
  expect((await send('history', '/api/silences', { headers: { ...json, ...bearer(OPERATOR_TOKEN) }, body: '{"matchers": [' })).status).toBe(400);
  const long = JSON.stringify({ matchers: ['alertname=~".+"'], duration: '1000d', comment: 'x', createdBy: ADMIN_TOKEN });
  expect((await send('history', '/api/silences', { headers: { ...json, ...bearer(OPERATOR_TOKEN) }, body: long })).status).toBe(400);
  expect((await send('history', '/api/silences', { headers: { ...json, ...bearer(OPERATOR_TOKEN) }, body: silence })).status).toBe(201);
  expect((await send('history', '/api/incidents?status=open', { method: 'GET', headers: bearer(ADMIN_TOKEN) })).status).toBe(200);
  // On loopback with tokens configured, a read needs one too (behind a reverse proxy every request comes from 127.0.0.1).
  expect((await send('history', '/api/incidents?status=open', { method: 'GET' })).status).toBe(401);
  expect((await send('history', '/api/incidents?status=open', { method: 'GET', headers: bearer(`${ADMIN_TOKEN}x`) })).status).toBe(401);

  await stack.stopAll();

  const captured = logs();
  expect([...captured.keys()].sort()).toEqual(SERVICES.map((n) => `${n}.log`).sort());
  // The paths above did log: the failed starts, the refusals, the retries and the permanent failures.
  const history = captured.get('history.log')!;
  expect(history).toContain('HISTORY_API_TOKENS entry 1: the role must be one of viewer, operator, admin');
  expect(history).toContain('the same token is given twice');
  expect(history).toContain('ECONNREFUSED');
  expect(history).toMatch(/"statusCode":401/);
  expect(history).toMatch(/"statusCode":403/);
  expect(captured.get('ingest.log')).toMatch(/auth\.test failed/);
  expect(captured.get('ingest.log')).toMatch(/"statusCode":401/);
  expect(captured.get('slack-sink.log')).toMatch(/invalid_auth/);
  expect(captured.get('opsgenie-sink.log')).toMatch(/HTTP 502/);
  expect(captured.get('opsgenie-sink.log')).toMatch(/HTTP 422/);

  const found = Object.entries(SECRETS).flatMap(([what, value]) =>
    [...captured].filter(([, text]) => text.includes(value)).map(([file]) => `${what} in ${file}`),
  );
  expect(found).toEqual([]);
});
