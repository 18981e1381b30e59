/**
 * The Slack endpoints against the real Kafka broker of the test run, driven over HTTP with requests signed
 * like Slack signs them: what Slack sees, and what lands on slack.received.v1 (and, when refused, that
 * nothing does).
 */
import pino from 'pino';
import { TOPICS, type Envelope } from '@alertbus/schemas';
import { startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { readTopic, testBrokers } from '../../../test/support/kafka';
import type { SlackAppOptions } from './app';
import { startIngest, type RunningIngest } from './index';
import { fixedIdentity } from './slack/identity';
import { slackSignature } from './slack/signature';
import { fixtureText } from '../../../test/support/fixtures';
import { request, type HttpResult, type Target } from './test-support/http';
import { endOffsets as kafkaEndOffsets } from './test-support/offsets';
import { settled } from './test-support/retry';
import { ingestRig } from './test-support/rig';

const SECRET = 'test-signing-secret-6b1e';
/** The app of the own-message fixture (event_callback_own_bot_message.json). */
const OWN = { userId: 'U074G5E1ANR', botId: 'B074K2M1NF4' };

const rig = ingestRig('ingest-slack-test');
let standIn: SlackStandIn | undefined;
let running: RunningIngest | undefined;

const makeApp = (slack: SlackAppOptions | undefined, token?: string) => rig.app({ slack, config: { token } });

const configured = (): SlackAppOptions => ({ signingSecret: SECRET, identity: fixedIdentity(OWN) });

/** Headers Slack would send with this body; `age` in seconds makes the timestamp older. */
function signed(body: string, opts: { age?: number; secret?: string; extra?: Record<string, string>; contentType?: string } = {}) {
  const ts = String(Math.floor(Date.now() / 1000) - (opts.age ?? 0));
  return {
    'content-type': opts.contentType ?? 'application/json',
    'x-slack-request-timestamp': ts,
    'x-slack-signature': slackSignature(opts.secret ?? SECRET, ts, Buffer.from(body, 'utf8')),
    ...opts.extra,
  };
}

const postEvent = (target: Target, body: string, headers: Record<string, string>) => request(target, 'POST', '/slack/events', body, headers);

function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

const endOffsets = () => kafkaEndOffsets(rig.kafka);

function written(before: Record<string, string>, after: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(after)) {
    const n = Number(BigInt(after[k]!) - BigInt(before[k] ?? '0'));
    const topic = k.slice(0, k.lastIndexOf('/'));
    if (n > 0) out[topic] = (out[topic] ?? 0) + n;
  }
  return out;
}

/** Runs `fn` and returns how many records it added to each topic. */
async function recordsWrittenBy(fn: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await endOffsets();
  await fn();
  return written(before, await endOffsets());
}

async function slackRecords<T extends 'SlackMessageReceived' | 'SlackActionReceived'>(ids: string[]) {
  const records = await settled(() => readTopic(rig.kafka, TOPICS.slackReceived));
  return records.filter((r) => r.event && ids.includes(r.event.id)).map((r) => ({ key: r.key, event: r.event as Envelope<T> }));
}

function accepted(res: HttpResult) {
  expect(res.statusCode).toBe(200);
  return res.json() as { accepted: number; ids: string[]; aliases: string[]; ignored?: string };
}

afterAll(async () => {
  await running?.close();
  await standIn?.close();
});

describe('POST /slack/events', () => {
  test('a signed app_mention → 200 after ONE SlackMessageReceived is on Kafka, keyed by its alias, the body kept as raw but its verification token', async () => {
    const target = await makeApp(configured());
    const body = fixtureText('slack/event_callback_app_mention.json');
    let res!: HttpResult;
    const counts = await recordsWrittenBy(async () => (res = await postEvent(target, body, signed(body))));
    const answer = accepted(res);
    expect(answer).toMatchObject({ accepted: 1, aliases: ['slack:T123:C123:1583636399.000700'] });
    expect(counts).toEqual({ [TOPICS.slackReceived]: 1 });

    const [record, ...more] = await slackRecords<'SlackMessageReceived'>(answer.ids);
    expect(more).toHaveLength(0);
    expect(record!.key).toBe('slack:T123:C123:1583636399.000700');
    expect(record!.event).toMatchObject({ type: 'SlackMessageReceived', alias: record!.key, source: 'ingest/slack' });
    expect(record!.event.data).toMatchObject({ kind: 'mention', team: 'T123', channel: 'C123', user: 'UUUUUXXXXX', eventId: 'EvV1KV8BM3' });
    const { token, ...rest } = JSON.parse(body) as { token?: string };
    expect(token).toBeTruthy();
    expect(record!.event.data.raw).toEqual(rest);
    expect(JSON.stringify(record!.event)).not.toContain(token);
  });

  test('a signed form at the Events URL (the Interactivity or slash command URL set to it) → 400 naming the right URL, echoing nothing, nothing written', async () => {
    const target = await makeApp(configured());
    const form = { contentType: 'application/x-www-form-urlencoded' };
    const slash = fixtureText('slack/slash_command_signed_body.txt').trim();
    let res!: HttpResult;
    expect(await recordsWrittenBy(async () => (res = await postEvent(target, slash, signed(slash, form))))).toEqual({});
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_payload',
      message: "a slash command was posted to /slack/events: set the Slack app's slash command Request URL to /slack/commands",
    });
    expect(res.body).not.toContain('xyzz0'); // the form begins with the legacy verification token
    expect(res.headers.get('x-slack-no-retry')).toBe('1'); // it would be refused again
    const click = interactionBody(JSON.parse(fixtureText('slack/block_actions_button_docs_example.json')));
    res = await postEvent(target, click, signed(click, form));
    expect(res.statusCode).toBe(400);
    expect((res.json() as { message: string }).message).toBe(
      "a form-encoded interactivity payload was posted to /slack/events: set the Slack app's Interactivity Request URL to /slack/interactions",
    );
    // Any other body that is not JSON: where the parser stopped, without the excerpt of the body V8 quotes.
    const other = 'token=secret0123456789&text=x';
    res = await postEvent(target, other, signed(other));
    expect(res.json()).toEqual({ error: 'invalid_json', message: 'invalid JSON body: Unexpected token in JSON at position 1' });
    const broken = fixtureText('slack/event_callback_app_mention.json').replace(/"token": ?"([^"]+)"/, '"token": $1');
    const { token } = JSON.parse(fixtureText('slack/event_callback_app_mention.json')) as { token: string };
    res = await postEvent(target, broken, signed(broken));
    expect(res.json()).toEqual({ error: 'invalid_json', message: `invalid JSON body: Unexpected token in JSON at position ${broken.indexOf(token)}` });
  });

  test('redelivered with X-Slack-Retry-Num 1..3 and again under a new event_id → every delivery written, all under one alias', async () => {
    const target = await makeApp(configured());
    const body = fixtureText('slack/event_callback_app_mention.json');
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await postEvent(target, body, signed(body, { extra: { 'x-slack-retry-num': String(n), 'x-slack-retry-reason': 'http_timeout' } }));
      ids.push(...accepted(res).ids);
    }
    const renamed = JSON.stringify({ ...JSON.parse(body), event_id: 'Ev0REDELIVERED' });
    ids.push(...accepted(await postEvent(target, renamed, signed(renamed))).ids);

    const records = await slackRecords<'SlackMessageReceived'>(ids);
    expect(records).toHaveLength(4);
    expect(new Set(records.map((r) => r.key))).toEqual(new Set(['slack:T123:C123:1583636399.000700']));
    expect(records.map((r) => [r.event.data.eventId, r.event.data.retryNum ?? null, r.event.data.retryReason ?? null]).sort()).toEqual([
      ['Ev0REDELIVERED', null, null],
      ['EvV1KV8BM3', 1, 'http_timeout'],
      ['EvV1KV8BM3', 2, 'http_timeout'],
      ['EvV1KV8BM3', 3, 'http_timeout'],
    ]);
  });

  test('a DM to the app → kind dm', async () => {
    const target = await makeApp(configured());
    const body = fixtureText('slack/event_callback_message_im_thread_reply.json');
    const answer = accepted(await postEvent(target, body, signed(body)));
    const [record] = await slackRecords<'SlackMessageReceived'>(answer.ids);
    expect(record!.key).toBe('slack:T111:D111:1726133700.887259');
    expect(record!.event.data).toMatchObject({ kind: 'dm', channelType: 'im', threadTs: '1726133698.626339' });
  });

  test('the app\'s own message, and an edit of it, → 200 and nothing written', async () => {
    const target = await makeApp(configured());
    const own = fixtureText('slack/event_callback_own_bot_message.json');
    const envelope = JSON.parse(own);
    const edit = JSON.stringify({
      ...envelope,
      event_id: 'Ev0OWNEDIT',
      event: {
        type: 'message',
        subtype: 'message_changed',
        hidden: true,
        channel: envelope.event.channel,
        channel_type: 'channel',
        message: { ...envelope.event, text: 'edited by chat.update' },
        previous_message: envelope.event,
        ts: '1718856900.000100',
        event_ts: '1718856900.000100',
      },
    });
    const answers: Array<{ ignored?: string }> = [];
    const counts = await recordsWrittenBy(async () => {
      answers.push(accepted(await postEvent(target, own, signed(own))));
      answers.push(accepted(await postEvent(target, edit, signed(edit))));
    });
    expect(answers).toEqual([expect.objectContaining({ accepted: 0, ignored: 'own-message' }), expect.objectContaining({ accepted: 0, ignored: 'own-message' })]);
    expect(counts).toEqual({});
  });

  test('a bad signature, a 6-minute-old timestamp or no signature → 401 and nothing written', async () => {
    const target = await makeApp(configured());
    const body = fixtureText('slack/event_callback_app_mention.json');
    const responses: HttpResult[] = [];
    const counts = await recordsWrittenBy(async () => {
      responses.push(await postEvent(target, body, signed(body, { secret: 'not-the-secret' })));
      responses.push(await postEvent(target, body, signed(body, { age: 360 })));
      responses.push(await postEvent(target, body, { 'content-type': 'application/json' }));
      // Signed, then changed on the way: the signature covers the raw bytes.
      responses.push(await postEvent(target, body.replace('test', 'tost'), signed(body)));
    });
    expect(responses.map((r) => r.statusCode)).toEqual([401, 401, 401, 401]);
    expect(responses.map((r) => (r.json() as { message: string }).message)).toEqual([
      'invalid Slack request signature: X-Slack-Signature does not match',
      'invalid Slack request signature: X-Slack-Request-Timestamp is more than 300 s away from now',
      'invalid Slack request signature: missing X-Slack-Request-Timestamp or X-Slack-Signature',
      'invalid Slack request signature: X-Slack-Signature does not match',
    ]);
    expect(counts).toEqual({});
  });

  test('url_verification → 200 with the challenge (signed; unsigned → 401)', async () => {
    const target = await makeApp(configured());
    const body = fixtureText('slack/url_verification_zulip.json');
    const res = await postEvent(target, body, signed(body));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    expect((await postEvent(target, body, { 'content-type': 'application/json' })).statusCode).toBe(401);
  });

  test('app_rate_limited → 200, logged and counted; unknown types → 200, ignored', async () => {
    const target = await makeApp(configured());
    const limited = fixtureText('slack/app_rate_limited.json');
    const other = JSON.stringify({ type: 'something_new', token: 'x' });
    const counts = await recordsWrittenBy(async () => {
      expect(accepted(await postEvent(target, limited, signed(limited))).ignored).toBe('app_rate_limited');
      expect(accepted(await postEvent(target, other, signed(other))).ignored).toBe('type something_new');
    });
    expect(counts).toEqual({});
    const metrics = (await request(target, 'GET', '/metrics')).body;
    expect(metrics).toMatch(/alertbus_ingest_slack_app_rate_limited_total\{service="ingest"\} 1/);
  });

  test('a signed body that is not JSON → 400', async () => {
    const target = await makeApp(configured());
    const res = await postEvent(target, '{"type": ', signed('{"type": '));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_json' });
  });

  test('no SLACK_SIGNING_SECRET → 503 "Slack is not configured", never accepted unsigned', async () => {
    const target = await makeApp(undefined);
    const body = fixtureText('slack/event_callback_app_mention.json');
    for (const path of ['/slack/events', '/slack/interactions']) {
      const res = await request(target, 'POST', path, body, signed(body));
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: 'slack_not_configured', message: 'Slack is not configured: set SLACK_SIGNING_SECRET' });
      expect(res.headers.get('x-slack-no-retry')).toBe('1');
    }
  });

  test('while the app\'s own identity is unknown, events → 503 (Slack retries later)', async () => {
    const target = await makeApp({ signingSecret: SECRET, identity: fixedIdentity({}) });
    const body = fixtureText('slack/event_callback_app_mention.json');
    const res = await postEvent(target, body, signed(body));
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: 'slack_not_ready' });
  });

  test('the signature check and the bearer token each guard only their own routes', async () => {
    const target = await makeApp(configured(), 'webhook-token');
    const body = fixtureText('slack/event_callback_app_mention.json');
    expect((await postEvent(target, body, signed(body))).statusCode).toBe(200); // no bearer token needed
    const alert = JSON.stringify({ alias: 'backup', title: 'Backup failed' });
    const res = await request(target, 'POST', '/webhooks/generic', alert, { 'content-type': 'application/json', authorization: 'Bearer webhook-token' });
    expect(res.statusCode).toBe(202); // no Slack signature needed
  });
});

describe('SLACK_ALLOWED_TEAMS', () => {
  test('events and clicks from a workspace it does not name → 200 and nothing written; from one it names → written', async () => {
    const elsewhere = await makeApp({ ...configured(), allowedTeams: new Set(['T0OURS']) });
    const mention = fixtureText('slack/event_callback_app_mention.json');
    let res!: HttpResult;
    expect(await recordsWrittenBy(async () => (res = await postEvent(elsewhere, mention, signed(mention))))).toEqual({});
    expect(accepted(res)).toMatchObject({ accepted: 0, ignored: 'team not in SLACK_ALLOWED_TEAMS' });
    const payload = JSON.parse(fixtureText('slack/block_actions_button_docs_example.json'));
    payload.actions[0] = { ...payload.actions[0], action_id: 'alertbus_resolve', value: JSON.stringify({ alias: 'alertmanager:a1', incidentId: 'b9f7c0aa-1111-8222-8333-444455556666' }) };
    const click = interactionBody(payload);
    const form = { contentType: 'application/x-www-form-urlencoded' };
    expect(await recordsWrittenBy(async () => (res = await request(elsewhere, 'POST', '/slack/interactions', click, signed(click, form))))).toEqual({});
    expect(res.statusCode).toBe(200);

    const ours = await makeApp({ ...configured(), allowedTeams: new Set(['T123']) });
    expect(await recordsWrittenBy(async () => (res = await postEvent(ours, mention, signed(mention))))).toEqual({ [TOPICS.slackReceived]: 1 });
    expect(accepted(res)).toMatchObject({ accepted: 1 });
  });
});

describe('POST /slack/interactions', () => {
  const VALUE = JSON.stringify({ alias: 'alertmanager:a1bc48475b20e73d', incidentId: 'b9f7c0aa-1111-8222-8333-444455556666' });

  function click() {
    const payload = JSON.parse(fixtureText('slack/block_actions_button_docs_example.json'));
    payload.actions[0] = { ...payload.actions[0], action_id: 'alertbus_resolve', value: VALUE };
    return payload;
  }

  test('a signed block_actions click → empty 200 after one SlackActionReceived keyed by the incident alias', async () => {
    const target = await makeApp(configured());
    const payload = click();
    const body = interactionBody(payload);
    let res!: HttpResult;
    const counts = await recordsWrittenBy(async () => {
      res = await request(target, 'POST', '/slack/interactions', body, signed(body, { contentType: 'application/x-www-form-urlencoded' }));
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(counts).toEqual({ [TOPICS.slackReceived]: 1 });

    const records = (await settled(() => readTopic(rig.kafka, TOPICS.slackReceived))).filter(
      (r) => r.event?.type === 'SlackActionReceived' && (r.event.data as { actionTs?: string }).actionTs === '1548426417.840180',
    );
    expect(records).toHaveLength(1);
    expect(records[0]!.key).toBe('alertmanager:a1bc48475b20e73d');
    expect(records[0]!.event!.data).toMatchObject({
      actionId: 'alertbus_resolve',
      incidentId: 'b9f7c0aa-1111-8222-8333-444455556666',
      user: { id: 'UA8RXUSPL', name: 'jtorrance' },
      channel: 'CBR2V3XEX',
      messageTs: '1548261231.000200',
    });
    // Kept as received, but the legacy verification token (a secret).
    const { token, ...rest } = payload as { token?: string };
    expect(token).toBeTruthy();
    expect((records[0]!.event!.data as { raw?: unknown }).raw).toEqual(rest);
  });

  test('a click whose response_url is not on Slack\'s hosts is recorded without it (its answers then go by the Web API); the log names the host alone', async () => {
    const lines: string[] = [];
    const target = await rig.app({ slack: configured(), log: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }) });
    const forged = { ...click(), response_url: 'http://127.0.0.1:9/actions/T9T5T8AS6/1/forged-secret-path' };
    forged.actions[0] = { ...forged.actions[0], action_ts: '1548426417.840901' };
    const genuine = click();
    genuine.actions[0] = { ...genuine.actions[0], action_ts: '1548426417.840902' };
    for (const payload of [forged, genuine]) {
      const body = interactionBody(payload);
      expect((await request(target, 'POST', '/slack/interactions', body, signed(body, { contentType: 'application/x-www-form-urlencoded' }))).statusCode).toBe(200);
    }
    const recorded = async (actionTs: string) =>
      (await settled(() => readTopic(rig.kafka, TOPICS.slackReceived))).find((r) => r.event?.type === 'SlackActionReceived' && (r.event.data as { actionTs?: string }).actionTs === actionTs)?.event
        ?.data as { responseUrl?: string; actionId: string } | undefined;
    const [dropped, kept] = [await recorded('1548426417.840901'), await recorded('1548426417.840902')];
    expect(dropped).toMatchObject({ actionId: 'alertbus_resolve' });
    expect(dropped).not.toHaveProperty('responseUrl');
    // Nor in the payload kept as raw (admins read it in the history).
    expect(JSON.stringify(dropped)).not.toContain('forged-secret-path');
    expect(kept?.responseUrl).toBe(genuine.response_url);
    expect(genuine.response_url).toMatch(/^https:\/\/hooks\.slack\.com\/actions\//);

    const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).includes('response_url not on Slack'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ responseUrlHost: '127.0.0.1:9' });
    expect(lines.join('\n')).not.toContain('forged-secret-path');
  });

  test('unsigned or without a payload field → 401 / 400, nothing written', async () => {
    const target = await makeApp(configured());
    const body = interactionBody(click());
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const statuses: number[] = [];
    const counts = await recordsWrittenBy(async () => {
      statuses.push((await request(target, 'POST', '/slack/interactions', body, form)).statusCode);
      statuses.push((await request(target, 'POST', '/slack/interactions', 'x=1', signed('x=1', { contentType: form['content-type'] }))).statusCode);
    });
    expect(statuses).toEqual([401, 400]);
    expect(counts).toEqual({});
  });
});

test('startIngest learns the app\'s own ids with auth.test (Slack stand-in) and drops what that bot user wrote', async () => {
  standIn = await startSlackStandIn({ tokens: ['xoxb-ingest-test'] });
  running = await startIngest(
    {
      port: 0,
      host: '127.0.0.1',
      bodyLimit: 1024 * 1024,
      kafkaBrokers: testBrokers(),
      kafkaTimeoutMs: 10_000,
      slack: { signingSecret: SECRET, botToken: 'xoxb-ingest-test', apiUrl: standIn.url, ackTimeoutMs: 2_500 },
    },
    { log: rig.log },
  );
  expect(running.slackIdentity?.current()).toEqual({ userId: 'U0ALERTBUS', botId: 'B0ALERTBUS', workspaceUrl: 'https://alertbus-stand-in.slack.com/' });
  expect(standIn.state.calls.map((c) => c.method)).toEqual(['auth.test']);

  const mention = JSON.parse(fixtureText('slack/event_callback_app_mention.json'));
  const fromBot = JSON.stringify({ ...mention, event: { ...mention.event, user: 'U0ALERTBUS' } });
  expect(accepted(await postEvent(running.url, fromBot, signed(fromBot))).ignored).toBe('own-message');

  const body = JSON.stringify(mention);
  const answer = accepted(await postEvent(running.url, body, signed(body)));
  const [record] = await slackRecords<'SlackMessageReceived'>(answer.ids);
  expect(record!.event.data.permalink).toBe('https://alertbus-stand-in.slack.com/archives/C123/p1583636399000700');
});
