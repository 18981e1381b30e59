/**
 * What ingest refuses or cleans so that nobody can write alerts they should not, and what it accepts can be
 * kept by every part: content types, per-request limits, per-sender tokens, text cleaning — over HTTP,
 * against the real Kafka broker of the test run.
 */
import { TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { fixedIdentity } from './slack/identity';
import { slackSignature } from './slack/signature';
import { fixtureText } from '../../../test/support/fixtures';
import { request, type HttpResult, type Target } from './test-support/http';
import { endOffsets, recordsBetween } from './test-support/offsets';
import { settled } from './test-support/retry';
import { ingestRig, type AppOptions } from './test-support/rig';

const SECRET = 'hardening-signing-secret-1c2d';
const rig = ingestRig('ingest-hardening-test');
const slack = { signingSecret: SECRET, identity: fixedIdentity({ userId: 'U0OWN', botId: 'B0OWN' }) };
const makeApp = (config: AppOptions['config'] = {}) => rig.app({ config, slack });

const json = { 'content-type': 'application/json' };
const post = (target: Target, path: string, body: string, headers: Record<string, string> = json) => request(target, 'POST', path, body, headers);

async function eventsOf<T extends AnyEnvelope>(topic: string, ids: readonly string[]): Promise<T[]> {
  const records = await settled(() => readTopic(rig.kafka, topic));
  const byId = new Map(records.filter((r) => r.event).map((r) => [r.event!.id, r.event!]));
  return ids.map((id) => byId.get(id) as T);
}

/** The response, and how many records the request wrote to each topic (written before the answer). */
async function sent(send: () => Promise<HttpResult>): Promise<{ res: HttpResult; written: (topic: string) => number }> {
  const before = await endOffsets(rig.kafka);
  const res = await send();
  const after = await endOffsets(rig.kafka);
  return { res, written: (topic) => recordsBetween(before, after, topic) };
}

const alertmanager = fixtureText('alertmanager/zulip_firing_two_alerts.json');

describe('webhooks take application/json only', () => {
  test.each([
    ['text/plain (what a web page can POST without a preflight)', { 'content-type': 'text/plain;charset=UTF-8' }, 'content type "text/plain" is not accepted'],
    ['a form, as curl -d sends', { 'content-type': 'application/x-www-form-urlencoded' }, 'content type "application/x-www-form-urlencoded" is not accepted'],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }, 'content type "multipart/form-data" is not accepted'],
  ])('%s → 415 saying how to send JSON, nothing written', async (_what, headers, said) => {
    const target = await makeApp();
    for (const path of ['/webhooks/alertmanager', '/webhooks/grafana', '/webhooks/generic']) {
      const { res, written } = await sent(() => post(target, path, alertmanager, headers));
      expect(res.statusCode).toBe(415);
      expect(res.json()).toEqual({
        error: 'unsupported_media_type',
        message: `${said}: webhooks take JSON only; send JSON with -H 'content-type: application/json'`,
      });
      expect(written(TOPICS.alertsReceived)).toBe(0);
    }
  });

  test('no content type at all → 415 as well', async () => {
    const target = await makeApp();
    const res = await request(target, 'POST', '/webhooks/alertmanager', Buffer.from(alertmanager));
    expect(res.statusCode).toBe(415);
    expect((res.json() as { message: string }).message).toMatch(/^the request has no content type: .*application\/json/);
  });

  test('application/json with a charset is JSON', async () => {
    const target = await makeApp();
    const res = await post(target, '/webhooks/alertmanager', alertmanager, { 'content-type': 'application/json; charset=utf-8' });
    expect(res.statusCode).toBe(202);
  });

  test('Slack keeps its own types: JSON events and form-encoded interactions', async () => {
    const target = await makeApp();
    const ts = String(Math.floor(Date.now() / 1000));
    const challenge = JSON.stringify({ token: 'x', challenge: 'c-123', type: 'url_verification' });
    const res = await post(target, '/slack/events', challenge, {
      'content-type': 'application/json',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': slackSignature(SECRET, ts, Buffer.from(challenge)),
    });
    expect(res.json()).toEqual({ challenge: 'c-123' });
    const form = new URLSearchParams({ payload: fixtureText('slack/block_actions_button_docs_example.json') }).toString();
    const click = await post(target, '/slack/interactions', form, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': slackSignature(SECRET, ts, Buffer.from(form)),
    });
    expect(click.statusCode).toBe(200);
  });
});

describe('limits per request', () => {
  const tiny = (n: number) => JSON.stringify({ alerts: Array.from({ length: n }, (_, i) => ({ title: `t${i}` })) });

  test('more alerts than INGEST_MAX_ALERTS → 413 naming the limit, nothing written; exactly the limit is accepted', async () => {
    const target = await makeApp({ maxAlerts: 5 });
    const over = await sent(() => post(target, '/webhooks/generic', tiny(6)));
    expect(over.res.statusCode).toBe(413);
    expect(over.res.json()).toEqual({
      error: 'payload_too_large',
      message: expect.stringMatching(/^the request carries 6 alerts, more than the 5 accepted in one request \(INGEST_MAX_ALERTS\): .*max_alerts: 5 at most/),
    });
    expect(over.written(TOPICS.alertsReceived)).toBe(0);
    const at = await sent(() => post(target, '/webhooks/generic', tiny(5)));
    expect(at.res.statusCode).toBe(202);
    expect(at.written(TOPICS.alertsReceived)).toBe(5);
  });

  test('the default is 10,000 alerts', async () => {
    const target = await makeApp();
    expect((await post(target, '/webhooks/generic', tiny(10_001))).statusCode).toBe(413);
  });

  test('more normalised bytes than INGEST_MAX_NORMALISED_BYTES → 413 naming the variable, nothing written', async () => {
    const target = await makeApp({ maxNormalisedBytes: 20_000 });
    const body = JSON.stringify({ alerts: Array.from({ length: 10 }, (_, i) => ({ title: `t${i}`, description: 'd'.repeat(3_000) })) });
    const { res, written } = await sent(() => post(target, '/webhooks/generic', body));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      error: 'payload_too_large',
      message: expect.stringMatching(/^the request comes to more than 20000 bytes once normalised \(by alert \d of 10; INGEST_MAX_NORMALISED_BYTES\)/),
    });
    expect(written(TOPICS.alertsReceived)).toBe(0);
  });

  test('500 KB of group fields with 500 tiny alerts is about 0.8 MB on Kafka, not 250 MB: the group is kept once', async () => {
    const target = await makeApp();
    const group = { status: 'firing', receiver: 'r', commonAnnotations: { blob: 'g'.repeat(500_000) }, groupLabels: { a: 'b' } };
    const alerts = Array.from({ length: 500 }, (_, i) => ({ status: 'firing', labels: { alertname: 'Tiny', i: String(i) } }));
    const { res, written } = await sent(() => post(target, '/webhooks/alertmanager', JSON.stringify({ ...group, alerts })));
    expect(res.statusCode).toBe(202);
    expect(written(TOPICS.alertsReceived)).toBe(500);

    const { ids } = res.json() as { ids: string[] };
    const events = await eventsOf<Envelope<'AlertReceived'>>(TOPICS.alertsReceived, ids);
    const bytes = events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
    expect(bytes).toBeLessThan(900_000); // the group once, plus about 600 bytes per alert
    expect((events[0]!.data.raw as { group: unknown }).group).toEqual(group);
    for (const [i, e] of events.entries()) {
      expect(e.data.request).toEqual({ id: ids[0], index: i, count: 500 });
      if (i > 0) expect(e.data.raw).toEqual(alerts[i]);
    }
  });

  test('a large real-shaped group (900 kube-state-metrics alerts, 0.9 MB, ~2.6 MB once normalised) is accepted whole, over several produce calls, in order', async () => {
    // Alertmanager never sends a 4xx again: a group refused for its size would be lost, in the outage that made it large.
    const target = await makeApp();
    const group = JSON.parse(fixtureText('alertmanager/k8s_resolved_truncatedAlerts.json')) as { alerts: Array<{ labels: Record<string, string>; fingerprint: string }> };
    const one = group.alerts[0]!;
    group.alerts = Array.from({ length: 900 }, (_, i) => ({ ...one, labels: { ...one.labels, pod: `pod-${i}` }, fingerprint: `f${String(i).padStart(15, '0')}` }));
    const body = JSON.stringify(group);
    expect(body.length).toBeGreaterThan(800_000);
    const calls = rig.producer.produceCalls;
    const { res, written } = await sent(() => post(target, '/webhooks/alertmanager', body));
    expect(res.statusCode).toBe(202);
    expect(written(TOPICS.alertsReceived)).toBe(900);
    expect(rig.producer.produceCalls - calls).toBeGreaterThanOrEqual(3);
    const { ids } = res.json() as { ids: string[] };
    const events = await eventsOf<Envelope<'AlertReceived'>>(TOPICS.alertsReceived, ids);
    expect(events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0)).toBeGreaterThan(2 * 1024 * 1024);
    expect(events.map((e) => e.data.labels.pod)).toEqual(group.alerts.map((a) => a.labels.pod));
  });

  test('the amplifying request (900 KB of group fields, 1000 tiny alerts) stops at the normalised limit set: 413, nothing written', async () => {
    const target = await makeApp({ bodyLimit: 2 * 1024 * 1024, maxNormalisedBytes: 1_000_000 });
    const alerts = Array.from({ length: 1000 }, (_, i) => ({ status: 'firing', labels: { alertname: 'Tiny', i: String(i) } }));
    const body = JSON.stringify({ commonAnnotations: { blob: 'g'.repeat(900_000) }, alerts });
    const { res, written } = await sent(() => post(target, '/webhooks/alertmanager', body));
    expect(res.statusCode).toBe(413);
    expect((res.json() as { message: string }).message).toMatch(/^the request comes to more than 1000000 bytes once normalised \(by alert \d+ of 1000; INGEST_MAX_NORMALISED_BYTES\)/);
    expect(written(TOPICS.alertsReceived)).toBe(0);
  });

  test('a group field copied into every alert (a huge groupKey) cannot amplify: 413 within the first alerts', async () => {
    const target = await makeApp({ bodyLimit: 2 * 1024 * 1024 });
    const alerts = Array.from({ length: 1000 }, (_, i) => ({ status: 'firing', labels: { i: String(i) } }));
    const body = JSON.stringify({ groupKey: 'k'.repeat(300_000), alerts });
    const { res, written } = await sent(() => post(target, '/webhooks/alertmanager', body));
    expect(res.statusCode).toBe(413);
    // Stopped within the first 48 MiB (the default bound), not after serialising 300 MB.
    const { message } = res.json() as { message: string };
    expect(message).toMatch(/^the request comes to more than 50331648 bytes once normalised \(by alert \d+ of 1000; INGEST_MAX_NORMALISED_BYTES\)/);
    expect(Number(/by alert (\d+)/.exec(message)![1])).toBeLessThan(200);
    expect(written(TOPICS.alertsReceived)).toBe(0);
  });

  test('a Slack request that would exceed what one Kafka batch holds is refused too (413), and ingest keeps accepting', async () => {
    const target = await makeApp({ maxNormalisedBytes: 8 * 1024 * 1024 });
    const payload = JSON.parse(fixtureText('slack/block_actions_button_docs_example.json')) as { actions: unknown[]; filler?: string };
    payload.filler = 'f'.repeat(450_000); // kept in each action's raw: 20 × 450 kB, over the 8 MiB set
    payload.actions = Array.from({ length: 20 }, () => payload.actions[0]);
    const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const { res, written } = await sent(() =>
      post(target, '/slack/interactions', form, {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': slackSignature(SECRET, ts, Buffer.from(form)),
      }),
    );
    expect(res.statusCode).toBe(413);
    expect((res.json() as { message: string }).message).toMatch(/by Slack action \d+ of 20; INGEST_MAX_NORMALISED_BYTES/);
    expect(written(TOPICS.slackReceived)).toBe(0);
    expect((await post(target, '/webhooks/generic', JSON.stringify({ title: 'still accepted' }))).statusCode).toBe(202);
  });

  test('JSON nested deeper than 64 levels → 400, before anything recurses over it', async () => {
    const target = await makeApp();
    const deep = `{"title":"x","extra":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const res = await post(target, '/webhooks/generic', deep);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_json', message: 'invalid JSON body: nested deeper than 64 levels' });
  });

  test.each([
    ['written out', '{"title":"x","labels":{"__proto__":{"admin":"yes"}}}', '__proto__'],
    ['spelt with \\u escapes', '{"title":"x","labels":{"\\u005f_pr\\u006Fto__":{"admin":"yes"}}}', '__proto__'],
    ['a constructor with a prototype, escaped', '{"title":"x","annotations":{"c\\u006fnstructor":{"prototype":{}}}}', 'constructor'],
  ])('a prototype-poisoning key %s → 400, nothing written', async (_how, body, key) => {
    const target = await makeApp();
    const { res, written } = await sent(() => post(target, '/webhooks/generic', body));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_json', message: `invalid JSON body: forbidden property name "${key}"` });
    expect(written(TOPICS.alertsReceived)).toBe(0);
  });

  test('escapes that spell no such key, as Go writes & < > (\\u0026…), are read as the characters', async () => {
    const target = await makeApp();
    const body = '{"title":"disk \\u003e 90% \\u0026 rising"}';
    const res = await post(target, '/webhooks/generic', body);
    expect(res.statusCode).toBe(202);
    const [event] = await eventsOf<Envelope<'AlertReceived'>>(TOPICS.alertsReceived, (res.json() as { ids: string[] }).ids);
    expect(event!.data.title).toBe('disk > 90% & rising');
  });
});

describe('per-sender tokens (INGEST_TOKENS)', () => {
  const config = { token: 'shared-token-0a1b', tokens: [{ name: 'alertmanager-eu', token: 'am-eu-token-2c3d' }, { name: 'grafana', token: 'grafana-token-4e5f' }] };
  const bearer = (t: string) => ({ ...json, authorization: `Bearer ${t}` });

  test('each token is accepted and its name is recorded on every event it sends; INGEST_TOKEN still works, unnamed', async () => {
    const target = await makeApp(config);
    const cases: Array<[string, string | undefined]> = [
      ['am-eu-token-2c3d', 'alertmanager-eu'],
      ['grafana-token-4e5f', 'grafana'],
      ['shared-token-0a1b', undefined],
    ];
    for (const [token, name] of cases) {
      const res = await post(target, '/webhooks/alertmanager', alertmanager, bearer(token));
      expect(res.statusCode).toBe(202);
      const events = await eventsOf<Envelope<'AlertReceived'>>(TOPICS.alertsReceived, (res.json() as { ids: string[] }).ids);
      expect(events).toHaveLength(2);
      for (const e of events) expect(e.data.authenticatedAs).toBe(name);
    }
  });

  test('an unknown token, or none, is refused with 401 and writes nothing; the answer never shows a token', async () => {
    const target = await makeApp(config);
    for (const headers of [bearer('am-eu-token-2c3'), bearer('grafana-token-4e5fX'), json]) {
      const { res, written } = await sent(() => post(target, '/webhooks/grafana', fixtureText('grafana/grafana_docs_webhook_example.json'), headers));
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toMatch(/token-/);
      expect(written(TOPICS.alertsReceived)).toBe(0);
    }
  });
});

describe('text every part can keep', () => {
  test('NUL, other controls and lone surrogates are cleaned in the alert, its raw payload and its keys, and counted', async () => {
    const target = await makeApp();
    // Written as JSON escapes, as a sender would: the body itself is plain ASCII.
    const body =
      '{"status":"firing","commonLabels":{"te\\u0000am":"db"},"alerts":[' +
      '{"status":"firing","labels":{"alertname":"Disk\\u0000Full","host":"db\\ud8001"},"annotations":{"summary":"disk \\u0007full\\r\\n\\tnow"}},' +
      '{"status":"firing","labels":{"alertname":"Clean","host":"db2"}}]}';
    const res = await post(target, '/webhooks/alertmanager', body);
    expect(res.statusCode).toBe(202);
    const { ids, aliases } = res.json() as { ids: string[]; aliases: string[] };
    const [dirty, clean] = await eventsOf<Envelope<'AlertReceived'>>(TOPICS.alertsReceived, ids);

    expect(dirty!.data).toMatchObject({
      title: 'disk full\n\tnow',
      labels: { alertname: 'DiskFull', host: 'db\uFFFD1' },
      // 1 in the group's key (the first alert keeps the group), NUL, a lone surrogate, BEL and CR in the alert.
      sanitised: 5,
    });
    expect(dirty!.data.raw).toEqual({
      status: 'firing',
      labels: { alertname: 'DiskFull', host: 'db\uFFFD1' },
      annotations: { summary: 'disk full\n\tnow' },
      group: { status: 'firing', commonLabels: { team: 'db' } },
    });
    expect(clean!.data.sanitised).toBeUndefined();
    // The alias (label hash) is computed from the cleaned labels, so a resend of the same request is the same incident.
    expect(aliases).toHaveLength(2);
    const again = (await post(target, '/webhooks/alertmanager', body).then((r) => r.json())) as { aliases: string[] };
    expect(again.aliases).toEqual(aliases);
    // What is on Kafka has no escape Postgres refuses.
    for (const e of [dirty!, clean!]) expect(JSON.stringify(e)).not.toMatch(/\\u0000|\\ud[89a-f]/i);
  });

  test('a label whose name holds a line break is still checked: a number as its value is refused, not passed on', async () => {
    const target = await makeApp();
    for (const key of ['extra\n', 'extra\u2028', 'a\u2029b']) {
      const body = JSON.stringify({ alerts: [{ status: 'firing', labels: { alertname: 'x', [key]: 0 } }] });
      const { res, written } = await sent(() => post(target, '/webhooks/alertmanager', body));
      expect(res.statusCode).toBe(400);
      expect((res.json() as { message: string }).message).toMatch(/^body\/alerts\/0\/labels\/extra.*must be string|^body\/alerts\/0\/labels\/a.b must be string/s);
      expect(written(TOPICS.alertsReceived)).toBe(0);
    }
  });

  test('a field that is nothing but controls is empty once cleaned, and refused as empty by the schema', async () => {
    const target = await makeApp();
    const res = await post(target, '/webhooks/generic', '{"title":"\\u0000\\u0001"}');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_payload', message: 'body/title must NOT have fewer than 1 characters' });
  });

  test('a Slack mention is cleaned the same way after its signature was checked over the bytes as sent', async () => {
    const target = await makeApp();
    const event = JSON.parse(fixtureText('slack/event_callback_app_mention.json')) as { event: { text: string } };
    event.event.text = 'db\u0000 is down \ud83d and <!channel>\u0008';
    const body = JSON.stringify(event);
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await post(target, '/slack/events', body, {
      ...json,
      'x-slack-request-timestamp': ts,
      'x-slack-signature': slackSignature(SECRET, ts, Buffer.from(body)),
    });
    expect(res.statusCode).toBe(200);
    const [received] = await eventsOf<Envelope<'SlackMessageReceived'>>(TOPICS.slackReceived, (res.json() as { ids: string[] }).ids);
    expect(received!.data.text).toBe('db is down \uFFFD and <!channel>');
    expect(received!.data.sanitised).toBe(3);
    expect((received!.data.raw as { event: { text: string } }).event.text).toBe('db is down \uFFFD and <!channel>');
  });
});
