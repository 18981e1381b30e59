/**
 * The ingest app against the real Kafka broker of the test run: what a sender sees over HTTP, and what
 * lands on the topics (and, for every rejected request, that nothing does).
 */
import { createKafka } from '@alertbus/kafka';
import { TOPIC_SPECS, TOPICS, type Envelope } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { fixtureNames, fixtureText } from '../../../test/support/fixtures';
import { request, type Target } from './test-support/http';
import { endOffsets as kafkaEndOffsets, recordsBetween } from './test-support/offsets';
import { ingestRig, type AppOptions } from './test-support/rig';
import { settled } from './test-support/retry';

const TOKEN = 'ingest-test-token-5f1c';
const rig = ingestRig('ingest-test');

const post = (app: Target, url: string, payload: string, headers: Record<string, string> = {}) =>
  request(app, 'POST', url, payload, { 'content-type': 'application/json', ...headers });
const get = (app: Target, url: string) => request(app, 'GET', url);
const endOffsets = () => kafkaEndOffsets(rig.kafka);

test('an Alertmanager group of two firing alerts → 202 and exactly two valid AlertReceived records keyed by alias', async () => {
  const app = await rig.app();
  const before = await endOffsets();
  const res = await post(app, '/webhooks/alertmanager', fixtureText('alertmanager/zulip_firing_two_alerts.json'));
  expect(res.statusCode).toBe(202);
  const body = res.json() as { accepted: number; ids: string[]; aliases: string[] };
  expect(body.accepted).toBe(2);
  expect(body.aliases).toEqual(['alertmanager:a1bc48475b20e73d', 'alertmanager:c2ea85182f28cbd9']);
  expect(body.ids).toHaveLength(2);

  // The 202 came after the acknowledgement: the records are there without waiting.
  const after = await endOffsets();
  expect(recordsBetween(before, after, TOPICS.alertsReceived)).toBe(2);
  const others = TOPIC_SPECS.filter((s) => s.name !== TOPICS.alertsReceived);
  for (const s of others) expect(recordsBetween(before, after, s.name)).toBe(0);

  const records = (await settled(() => readTopic(rig.kafka, TOPICS.alertsReceived))).filter((r) => r.event && body.ids.includes(r.event.id));
  expect(records).toHaveLength(2);
  for (const r of records) {
    expect(r.event).toBeDefined(); // decoded and valid against the envelope and AlertReceived schemas
    expect(r.event!.type).toBe('AlertReceived');
    expect(r.key).toBe(r.event!.alias);
    expect(r.event!.data).toMatchObject({ source: 'alertmanager', status: 'firing', severity: 'critical' });
  }
  expect(records.map((r) => r.key).sort()).toEqual(body.aliases);

  // raw is the alert exactly as sent (validation neither coerced nor stripped anything); the group's fields are
  // kept once, under raw.group of the request's first alert, which every alert of the request names.
  const { alerts, ...group } = JSON.parse(fixtureText('alertmanager/zulip_firing_two_alerts.json')) as { alerts: unknown[] };
  const byId = new Map(records.map((r) => [r.event!.id, r.event!]));
  body.ids.forEach((id, i) => {
    const data = byId.get(id)!.data as { raw: unknown; request: unknown };
    expect(data.raw).toEqual(i === 0 ? { ...(alerts[i] as object), group } : alerts[i]);
    expect(data.request).toEqual({ id: body.ids[0], index: i, count: 2 });
  });
});

test('every real Alertmanager and Grafana fixture passes the route schemas (except the malformed one)', async () => {
  const app = await rig.app();
  for (const [route, dir] of [
    ['/webhooks/alertmanager', 'alertmanager'],
    ['/webhooks/grafana', 'grafana'],
  ] as const) {
    for (const name of fixtureNames(dir)) {
      const res = await post(app, route, fixtureText(`${dir}/${name}`));
      if (name === 'prom2teams_malformed_missing_status_alertname.json') {
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({
          error: 'invalid_payload',
          message: expect.stringContaining('body/alerts/0/status is missing'),
        });
      } else {
        expect({ name, status: res.statusCode }).toEqual({ name, status: 202 });
      }
    }
  }
});

test('a webhook posted to the other source\'s endpoint is refused with a 400 naming the right one, and nothing is written', async () => {
  const app = await rig.app();
  const before = await endOffsets();
  const grafana = await post(app, '/webhooks/alertmanager', fixtureText('grafana/zulip_firing_values_imageURL_v11.json'));
  expect(grafana.statusCode).toBe(400);
  expect(grafana.json()).toEqual({
    error: 'invalid_payload',
    message: 'this is a Grafana webhook (version "1" with an orgId), posted to /webhooks/alertmanager: set the contact point\'s URL to /webhooks/grafana',
  });
  const alertmanager = await post(app, '/webhooks/grafana', fixtureText('alertmanager/zulip_firing_two_alerts.json'));
  expect(alertmanager.statusCode).toBe(400);
  expect((alertmanager.json() as { message: string }).message).toContain('set the receiver\'s url to /webhooks/alertmanager');
  expect(recordsBetween(before, await endOffsets(), TOPICS.alertsReceived)).toBe(0);
});

test('an alert whose text (700 kB) puts its raw copy over a record keeps raw with its long strings cut, and its group is accepted whole', async () => {
  const app = await rig.app({ config: { bodyLimit: 2 * 1024 * 1024 } });
  const big = { status: 'firing', labels: { alertname: 'StackTrace', pod: 'a' }, annotations: { description: 'trace '.repeat(120_000) }, fingerprint: `big-${Date.now()}` };
  const small = { status: 'firing', labels: { alertname: 'Small', pod: 'b' }, fingerprint: `small-${Date.now()}` };
  // In the group's common annotations too, as Alertmanager sends a group of one: raw holds the text twice.
  const res = await post(app, '/webhooks/alertmanager', JSON.stringify({ version: '4', status: 'firing', commonAnnotations: big.annotations, alerts: [big, small] }));
  expect(res.statusCode).toBe(202);
  const { ids } = res.json() as { ids: string[] };
  const records = await settled(() => readTopic(rig.kafka, TOPICS.alertsReceived));
  const [first, second] = ids.map((id) => records.find((r) => r.event?.id === id)!.event as Envelope<'AlertReceived'>);
  const cutDescription = first!.data.description!;
  expect(cutDescription).toMatch(/^(trace ){2495}trac…\[cut: 705,026 characters\]$/);
  const raw = first!.data.raw as { labels: unknown; annotations: { description: string }; group: { commonAnnotations: { description: string } } };
  expect(raw.labels).toEqual(big.labels);
  expect(raw.annotations.description).toBe(cutDescription);
  expect(raw.group.commonAnnotations.description).toBe(cutDescription);
  expect(first!.data.cut).toEqual([
    { field: 'description', characters: 705_026 },
    { field: 'annotations.description', characters: 705_026 },
    { field: 'raw', characters: 2 * 705_026 },
  ]);
  expect((second!.data.raw as { labels: unknown }).labels).toEqual(small.labels);
  expect(second!.data.cut).toBeUndefined();
});

test('a legacy Grafana alerting webhook (ruleName, evalMatches) → 400 saying so, not that `alerts` is missing', async () => {
  const app = await rig.app();
  // The shape Grafana 7's legacy alerting sent (no `alerts`): one rule's state.
  const legacy = { title: '[Alerting] CPU', ruleId: 1, ruleName: 'CPU', ruleUrl: 'http://grafana/d/x', state: 'alerting', evalMatches: [{ value: 100, metric: 'cpu', tags: {} }], message: 'high' };
  const res = await post(app, '/webhooks/grafana', JSON.stringify(legacy));
  expect(res.statusCode).toBe(400);
  expect(res.json()).toEqual({
    error: 'invalid_payload',
    message: "this is a legacy Grafana alerting webhook (ruleName, evalMatches, no alerts): alertbus takes unified alerting's; send it from a unified alerting contact point of type webhook",
  });
  // Without those fields, the schema's own message, as before.
  expect((await post(app, '/webhooks/grafana', JSON.stringify({ title: 'x' }))).json()).toEqual({ error: 'invalid_payload', message: expect.stringContaining("must have required property 'alerts'") });
});

test('alerts a sender left out of a group (truncatedAlerts) are counted in /metrics by source', async () => {
  const app = await rig.app();
  const group = JSON.parse(fixtureText('alertmanager/k8s_resolved_truncatedAlerts.json')) as { truncatedAlerts: number; alerts: Array<{ fingerprint: string }> };
  group.truncatedAlerts = 7;
  group.alerts[0]!.fingerprint = `truncated-${Date.now()}`;
  expect((await post(app, '/webhooks/alertmanager', JSON.stringify(group))).statusCode).toBe(202);
  expect((await post(app, '/webhooks/alertmanager', fixtureText('alertmanager/zulip_firing_two_alerts.json'))).statusCode).toBe(202);
  const metrics = (await get(app, '/metrics')).body;
  expect(metrics).toContain('alertbus_ingest_alerts_truncated_total{source="alertmanager",service="ingest"} 7');
});

test('the clock and the id source are injected: recordedAt, and occurredAt when the source gives no time', async () => {
  let n = 0;
  const run = Math.random().toString(36).slice(2);
  const app = await rig.app({ now: () => new Date('2026-05-01T12:00:00Z'), newId: () => `${run}-${++n}` });
  const res = await post(
    app,
    '/webhooks/generic',
    JSON.stringify({ alerts: [{ title: 'no time' }, { title: 'timed', occurredAt: '2026-05-01T13:30:00+02:00' }] }),
  );
  expect(res.statusCode).toBe(202);
  expect((res.json() as { ids: string[] }).ids).toEqual([`${run}-1`, `${run}-2`]);
  const events = (await settled(() => readTopic(rig.kafka, TOPICS.alertsReceived)))
    .map((r) => r.event!)
    .filter((e) => e?.id.startsWith(run))
    .sort((a, b) => a.id.localeCompare(b.id));
  expect(events.map((e) => [e.recordedAt, e.occurredAt, e.source])).toEqual([
    ['2026-05-01T12:00:00.000Z', '2026-05-01T12:00:00.000Z', 'ingest/generic'],
    ['2026-05-01T12:00:00.000Z', '2026-05-01T11:30:00.000Z', 'ingest/generic'],
  ]);
});

describe('rejected requests get a clear 4xx and write nothing', () => {
  const alert = fixtureText('alertmanager/zulip_firing_two_alerts.json');
  const cases: Array<{
    what: string;
    config?: AppOptions['config'];
    url?: string;
    payload: string;
    headers?: Record<string, string>;
    status: number;
    error: string;
    message: RegExp | string;
  }> = [
    {
      what: 'invalid JSON',
      payload: '{"alerts": [',
      status: 400,
      error: 'invalid_json',
      message: /^invalid JSON body: /,
    },
    {
      what: 'a wrong status value',
      payload: JSON.stringify({ status: 'firing', alerts: [{ status: 'burning', labels: {} }] }),
      status: 400,
      error: 'invalid_payload',
      message: 'body/alerts/0/status must be equal to one of the allowed values',
    },
    {
      what: 'a missing required field in a generic batch',
      url: '/webhooks/generic',
      payload: JSON.stringify({ alerts: [{ title: 'ok' }, { severity: 'critical' }] }),
      status: 400,
      error: 'invalid_payload',
      message: "body/alerts/1 must have required property 'title'",
    },
    {
      what: 'a second alert that makes the whole request invalid (the first is not written either)',
      payload: JSON.stringify({ alerts: [{ status: 'firing', labels: { a: '1' } }, { labels: { a: '2' } }] }),
      status: 400,
      error: 'invalid_payload',
      message: 'body/alerts/1/status is missing',
    },
    {
      what: 'a body over INGEST_BODY_LIMIT',
      config: { bodyLimit: 1024 },
      payload: alert,
      status: 413,
      error: 'payload_too_large',
      message: /^request body is larger than the limit of 1024 bytes \(INGEST_BODY_LIMIT\): set the Alertmanager receiver's max_alerts/,
    },
    {
      what: 'one alert too large for a Kafka record by its structure (a label name: never cut), under a generous body limit',
      config: { bodyLimit: 4 * 1024 * 1024 },
      url: '/webhooks/generic',
      payload: JSON.stringify({ title: 'huge', labels: { [`k${'x'.repeat(1_100_000)}`]: 'v' } }),
      status: 413,
      error: 'payload_too_large',
      message: 'above the 1000000 bytes one Kafka record may hold',
    },
    {
      what: 'a missing bearer token',
      config: { token: TOKEN },
      payload: alert,
      status: 401,
      error: 'unauthorized',
      message: /^missing bearer token/,
    },
    {
      what: 'a wrong bearer token',
      config: { token: TOKEN },
      payload: alert,
      headers: { authorization: `Bearer ${TOKEN}x` },
      status: 401,
      error: 'unauthorized',
      message: 'invalid bearer token',
    },
    {
      what: 'another auth scheme carrying the right token',
      config: { token: TOKEN },
      payload: alert,
      headers: { authorization: `Basic ${TOKEN}` },
      status: 401,
      error: 'unauthorized',
      message: /^missing bearer token/,
    },
  ];

  test.each(cases)('$what → $status', async (c) => {
    const app = await rig.app({ config: c.config });
    const before = await endOffsets();
    const res = await post(app, c.url ?? '/webhooks/alertmanager', c.payload, c.headers);
    expect(res.statusCode).toBe(c.status);
    const body = res.json() as { error: string; message: string };
    expect(body.error).toBe(c.error);
    if (typeof c.message === 'string') expect(body.message).toContain(c.message);
    else expect(body.message).toMatch(c.message);
    expect(res.body).not.toContain(TOKEN);
    expect(await endOffsets()).toEqual(before);
  });

  test('with the right token the same request is accepted', async () => {
    const app = await rig.app({ config: { token: TOKEN } });
    const res = await post(app, '/webhooks/alertmanager', alert, { authorization: `Bearer ${TOKEN}` });
    expect(res.statusCode).toBe(202);
    // The ops endpoints stay open for probes and scrapers.
    expect((await get(app, '/healthz')).statusCode).toBe(200);
    expect((await get(app, '/metrics')).statusCode).toBe(200);
  });
});

test('Kafka unreachable → 503 "kafka unavailable", and not ready', async () => {
  const deadKafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'ingest-test-dead', log: rig.log });
  const dead = rig.ownProducer(deadKafka);
  const app = await rig.app({ config: { kafkaTimeoutMs: 1500 }, producer: dead });

  const res = await post(app, '/webhooks/alertmanager', fixtureText('alertmanager/zulip_firing_two_alerts.json'));
  expect(res.statusCode).toBe(503);
  expect(res.json()).toEqual({ error: 'kafka_unavailable', message: expect.stringMatching(/^kafka unavailable: /) });

  const ready = await get(app, '/readyz');
  expect(ready.statusCode).toBe(503);
  expect(ready.json()).toMatchObject({ status: 'not ready' });
});

test('/readyz follows the producer connection', async () => {
  const own = rig.ownProducer();
  const app = await rig.app({ producer: own });
  expect((await get(app, '/readyz')).statusCode).toBe(503);
  await own.connect();
  expect((await get(app, '/readyz')).json()).toEqual({ status: 'ready' });
  await own.disconnect();
  expect((await get(app, '/readyz')).statusCode).toBe(503);
});

test('200 concurrent requests are all accepted and grouped into fewer produce calls', async () => {
  const app = await rig.app();
  const N = 200;
  const callsBefore = rig.producer.produceCalls;
  const before = await endOffsets();
  const responses = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      post(app, '/webhooks/generic', JSON.stringify({ title: `load ${i}`, labels: { i: String(i) }, severity: 'info' })),
    ),
  );
  expect(responses.map((r) => r.statusCode)).toEqual(Array(N).fill(202));
  const aliases = new Set(responses.map((r) => (r.json() as { aliases: string[] }).aliases[0]));
  expect(aliases.size).toBe(N);
  const calls = rig.producer.produceCalls - callsBefore;
  expect(calls).toBeGreaterThanOrEqual(1);
  expect(calls).toBeLessThan(N);
  expect(recordsBetween(before, await endOffsets(), TOPICS.alertsReceived)).toBe(N);

  const metrics = (await get(app, '/metrics')).body;
  expect(metrics).toContain(`alertbus_ingest_alerts_accepted_total{source="generic",service="ingest"} ${N}`);
  expect(metrics).toContain(`alertbus_ingest_requests_total{route="/webhooks/generic",status="202",service="ingest"} ${N}`);
  expect(metrics).toMatch(/alertbus_ingest_produce_duration_seconds_count\{service="ingest",outcome="ok"\} 200/);
  expect(metrics).toMatch(/alertbus_ingest_produce_calls_total\{service="ingest"\} \d+/);
});
