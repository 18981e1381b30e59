/**
 * Tokens and roles on the history API, on a real service (Kafka, Postgres, HTTP) listening off loopback:
 * writes need an operator and are recorded under the token's name, reads need a viewer, raw payloads and
 * response URLs need an admin. Silence limits: SILENCE_MAX_DURATION and allowAll.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Kafka } from 'kafkajs';
import { ConfigError, createPool, ensureDatabase } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { TOPICS, makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { dropTestDatabase } from '../../../../test/support/db';
import { readTopic, testBrokers, testKafka } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';
import { buildApp } from '../app';
import type { ApiToken } from '../auth/tokens';
import { startHistory, type HistoryService } from '../index';
import { createHistoryMetrics } from '../metrics';
import { ALIAS, INCIDENT_ID, INPUT_ID, opened, received } from '@alertbus/projection/src/testdata/events';
import { ADMIN_ONLY, REDACTED } from './redact';

const VIEWER: ApiToken = { name: 'grafana', role: 'viewer', token: 'auth-int-viewer-token-7c1d' };
const OPERATOR: ApiToken = { name: 'alice', role: 'operator', token: 'auth-int-operator-token-2b9e' };
const ADMIN: ApiToken = { name: 'root', role: 'admin', token: 'auth-int-admin-token-55f0a' };

const click = JSON.parse(readFileSync(resolve(__dirname, '../../../../../shared/fixtures/slack/block_actions_button_docs_example.json'), 'utf8'));
const HOOK = 'https://hooks.slack.com/actions/T0ALERTS/1234/nested-deep-in-raw';

let kafka: Kafka;
let service: HistoryService;
let base: string;

async function call(method: string, path: string, opts: { token?: string; body?: unknown } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* the page, not JSON */
  }
  return { status: res.status, body, challenge: res.headers.get('www-authenticate') };
}

const silence = (extra: Record<string, unknown> = {}) => ({ matchers: ['team="db"'], duration: '2h', comment: 'failover test', ...extra });

/** An alert whose raw payload hides a response URL and a token deep inside, and a click on its Ack button. */
function story(): AnyEnvelope[] {
  const alert = received();
  const nestedRaw = {
    ...alert.data.raw as object,
    alerts: [{ annotations: { callback: [{ response_url: HOOK }] } }],
    token: 'legacy-verification-token',
  };
  const clicked = makeEnvelope({
    id: 'auth-int-click',
    type: 'SlackActionReceived',
    alias: ALIAS,
    occurredAt: alert.occurredAt,
    recordedAt: alert.recordedAt,
    source: 'ingest/slack',
    data: {
      actionId: 'alertbus_ack',
      actionType: 'button',
      incidentId: INCIDENT_ID,
      user: { id: 'UA8RXUSPL', name: 'jtorrance' },
      team: 'T9TK3CUKW',
      channel: 'CBR2V3XEX',
      messageTs: '1548261231.000200',
      responseUrl: click.response_url,
      triggerId: click.trigger_id,
      raw: click,
    },
  });
  return [{ ...alert, data: { ...alert.data, raw: nestedRaw } } as AnyEnvelope, clicked, opened()];
}

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-auth');
  service = await startHistory({
    brokers: testBrokers(),
    databaseUrl: process.env.DATABASE_URL!,
    host: '0.0.0.0',
    port: 0,
    logLevel: 'silent',
    tokens: [VIEWER, OPERATOR, ADMIN],
  });
  base = `http://127.0.0.1:${service.port}`;
  const producer = new EventProducer(kafka);
  await producer.connect();
  await producer.send(story());
  await producer.disconnect();
});

afterAll(async () => {
  await service?.close();
  await dropTestDatabase();
});

describe('writes need an operator', () => {
  it('no token → 401, an unknown token → 401, a viewer → 403, each with a JSON message; nothing is written', async () => {
    const none = await call('POST', '/api/silences', { body: silence() });
    expect(none).toEqual({
      status: 401,
      challenge: 'Bearer realm="alertbus-history"',
      body: { error: 'unauthorized', message: 'POST /api/silences needs a token with role operator or higher: send "Authorization: Bearer <token>"' },
    });

    const unknown = await call('POST', '/api/silences', { token: 'auth-int-guessed-token-0000', body: silence() });
    expect(unknown).toEqual({
      status: 401,
      challenge: 'Bearer realm="alertbus-history", error="invalid_token"',
      body: { error: 'unauthorized', message: 'the bearer token is not one of the tokens in HISTORY_API_TOKENS' },
    });

    const viewer = await call('POST', '/api/silences', { token: VIEWER.token, body: silence() });
    expect(viewer).toMatchObject({
      status: 403,
      body: { error: 'forbidden', message: 'the token of "grafana" has role viewer; POST /api/silences needs role operator or higher' },
    });
    expect((await call('DELETE', '/api/silences/whatever', { token: VIEWER.token })).status).toBe(403);
    expect((await call('DELETE', '/api/silences/whatever')).status).toBe(401);

    expect(await readTopic(kafka, TOPICS.silences)).toEqual([]);
  });

  it("an operator's silence is created under the token's name; a body that names an author is refused", async () => {
    const created = await call('POST', '/api/silences', { token: OPERATOR.token, body: silence() });
    expect(created).toMatchObject({ status: 201, body: { created_by: 'alice', matches_all: false, state: 'active' } });
    expect(created.body.notice).toBeUndefined();

    const [record] = (await readTopic(kafka, TOPICS.silences)).filter((r) => r.event?.alias === `silence:${created.body.silence_id}`);
    expect(record?.event).toMatchObject({ type: 'SilenceCreated', data: { createdBy: 'alice' } });

    expect(await call('POST', '/api/silences', { token: OPERATOR.token, body: silence({ createdBy: 'mallory' }) })).toMatchObject({
      status: 400,
      body: { message: 'body field "createdBy" is not accepted: the author is the name of the token that makes the request ("alice")' },
    });

    const byAdmin = await call('POST', '/api/silences', { token: ADMIN.token, body: silence() });
    expect(byAdmin).toMatchObject({ status: 201, body: { created_by: 'root' } });
    await waitFor(async () => (await call('GET', `/api/silences/${byAdmin.body.silence_id}`, { token: VIEWER.token })).status === 200, {
      what: 'the silence projected',
    });
    const expired = await call('DELETE', `/api/silences/${byAdmin.body.silence_id}`, { token: OPERATOR.token });
    expect(expired).toMatchObject({ status: 200, body: { state: 'expired', expired_by: 'alice' } });
  });

  it('a 1000-day silence is refused with 400 naming SILENCE_MAX_DURATION', async () => {
    const res = await call('POST', '/api/silences', { token: OPERATOR.token, body: silence({ duration: '1000d' }) });

    expect(res).toEqual({
      status: 400,
      challenge: null,
      body: {
        error: 'bad_request',
        message: 'the silence would last 1000d, longer than SILENCE_MAX_DURATION (30d): give a shorter duration or an earlier endsAt',
      },
    });
  });

  it('a silence of every alert needs allowAll and a comment, and the answer says what it does', async () => {
    const mallory = { matchers: ['alertname=~".+"'], duration: '1000d', comment: 'x' };
    const refused = await call('POST', '/api/silences', { token: OPERATOR.token, body: { ...mallory, duration: '1h' } });
    expect(refused).toMatchObject({ status: 400, body: { message: expect.stringContaining('would silence every alert') } });
    expect(refused.body.message).toContain('"allowAll": true');

    const blank = await call('POST', '/api/silences', { token: OPERATOR.token, body: { ...mallory, duration: '1h', allowAll: true, comment: ' ' } });
    expect(blank).toMatchObject({ status: 400, body: { message: 'comment is blank: say why the alerts are silenced' } });

    // Still no longer than the limit, allowAll or not.
    expect((await call('POST', '/api/silences', { token: OPERATOR.token, body: { ...mallory, allowAll: true } })).status).toBe(400);

    const meant = await call('POST', '/api/silences', {
      token: OPERATOR.token,
      body: { ...mallory, duration: '1h', allowAll: true, comment: 'datacenter move: every alert is expected' },
    });
    expect(meant).toMatchObject({
      status: 201,
      body: { matches_all: true, created_by: 'alice', notice: expect.stringMatching(/^this silence matches every alert: nothing is posted to Slack or paged until it ends at /) },
    });
    const none = await call('POST', '/api/silences', { token: OPERATOR.token, body: { matchers: [], duration: '10m', allowAll: true, comment: 'cutover' } });
    expect(none).toMatchObject({ status: 201, body: { matchers: [], matches_all: true } });

    await waitFor(
      async () => ((await call('GET', '/api/silences', { token: VIEWER.token })).body.silences as any[]).some((s) => s.silence_id === meant.body.silence_id),
      { what: 'the silence of everything listed' },
    );
    const listed = (await call('GET', '/api/silences', { token: VIEWER.token })).body.silences as any[];
    expect(listed.find((s) => s.silence_id === meant.body.silence_id)).toMatchObject({ matches_all: true });
    expect(listed.find((s) => s.silence_id === meant.body.silence_id).notice).toBeUndefined();
  });
});

describe('reads off loopback need a viewer', () => {
  it.each(['/api/incidents', `/api/incidents/${INCIDENT_ID}`, '/api/stats', '/api/silences', `/api/timeline?alias=${ALIAS}`, '/api/projection/offsets'])(
    'GET %s: 401 without a token, 200 for a viewer',
    async (path) => {
      const anonymous = await call('GET', path);
      expect(anonymous).toMatchObject({
        status: 401,
        body: { error: 'unauthorized', message: expect.stringMatching(/needs a token with role viewer or higher/) },
      });
      await waitFor(async () => (await call('GET', path, { token: VIEWER.token })).status === 200, { what: `${path} for a viewer` });
    },
  );

  it('the probes, the documentation and the page itself need no token', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/docs/json', '/', '/ui/app.js']) {
      expect([path, (await call('GET', path)).status]).toEqual([path, 200]);
    }
  });

  it('the OpenAPI document shows the bearer scheme and what each route needs', async () => {
    const doc = (await call('GET', '/docs/json')).body;

    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/api/silences'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/api/silences'].post.description).toContain('Needs a token with role operator or higher.');
    expect(Object.keys(doc.paths['/api/silences'].post.responses)).toEqual(expect.arrayContaining(['401', '403']));
    expect(doc.paths['/api/incidents'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/api/silences'].post.requestBody.content['application/json'].schema.properties).not.toHaveProperty('createdBy');
  });
});

describe('raw payloads and response URLs are for admins only', () => {
  const timelineFor = async (token: string) => {
    await waitFor(async () => (await call('GET', `/api/incidents/${INCIDENT_ID}`, { token })).body.timeline?.length === 3, {
      what: 'the incident and its inputs projected',
    });
    return (await call('GET', `/api/incidents/${INCIDENT_ID}`, { token })).body.timeline as Array<{ type: string; data: any }>;
  };
  const byType = (timeline: Array<{ type: string; data: any }>, type: string) => timeline.find((e) => e.type === type)!.data;

  it('a viewer and an operator see neither the raw payloads nor the response URL nor the trigger id', async () => {
    for (const token of [VIEWER.token, OPERATOR.token]) {
      const timeline = await timelineFor(token);
      expect(byType(timeline, 'AlertReceived')).toMatchObject({ title: 'HighErrorRate api', raw: ADMIN_ONLY });
      expect(byType(timeline, 'SlackActionReceived')).toMatchObject({
        actionId: 'alertbus_ack',
        responseUrl: ADMIN_ONLY,
        triggerId: ADMIN_ONLY,
        raw: ADMIN_ONLY,
      });
      const text = JSON.stringify(timeline);
      for (const secret of [HOOK, click.response_url, click.trigger_id, click.token, 'legacy-verification-token']) expect(text).not.toContain(secret);

      const audit = (await call('GET', `/api/timeline?alias=${encodeURIComponent(ALIAS)}`, { token })).body.events as any[];
      expect(JSON.stringify(audit)).not.toContain(click.response_url);
      expect(audit.find((e) => e.type === 'SlackActionReceived').data.raw).toBe(ADMIN_ONLY);
    }
  });

  it('an admin sees them, however deep; credentials stay hidden even from an admin', async () => {
    const timeline = await timelineFor(ADMIN.token);
    const alert = byType(timeline, 'AlertReceived');
    const action = byType(timeline, 'SlackActionReceived');

    expect(alert.raw.alerts[0].annotations.callback[0].response_url).toBe(HOOK);
    expect(alert.raw.token).toBe(REDACTED);
    expect(action).toMatchObject({ responseUrl: click.response_url, triggerId: click.trigger_id });
    expect(action.raw).toEqual({ ...click, token: REDACTED });
    expect(byType(timeline, 'IncidentOpened')).toMatchObject({ inputId: INPUT_ID });
  });
});

describe('without tokens', () => {
  it('on loopback, reads stay open and writes are refused with a message saying to set HISTORY_API_TOKENS', async () => {
    const pool = createPool(process.env.DATABASE_URL!);
    const app = buildApp({ pool, registry: createHistoryMetrics().registry, ready: async () => null, auth: { tokens: [], readsOpen: true } });
    try {
      for (const headers of [{}, { authorization: `Bearer ${OPERATOR.token}` }]) {
        const res = await app.inject({ method: 'POST', url: '/api/silences', headers, payload: silence() });
        expect(res.statusCode).toBe(401);
        expect(res.json()).toEqual({
          error: 'unauthorized',
          message:
            'POST /api/silences needs a token with role operator or higher, and this history service has no tokens configured: ' +
            'set HISTORY_API_TOKENS=NAME:ROLE:TOKEN,... (see the README, "History API authentication")',
        });
      }
      expect((await app.inject({ method: 'GET', url: '/api/silences' })).statusCode).toBe(200);
    } finally {
      await app.close();
      await pool.end();
    }
  });

  it('off loopback, history refuses to start', async () => {
    const start = startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, host: '0.0.0.0', port: 0, logLevel: 'silent' });

    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(/HISTORY_HOST=0\.0\.0\.0 is not a loopback address, so every request to the API needs a token/);
  });
});
