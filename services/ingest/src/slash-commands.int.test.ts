/**
 * POST /slack/commands against the real Kafka broker of the test run, with form bodies signed as Slack signs
 * them: a command is answered 200 only once its SlackSlashCommandReceived is on Kafka, keyed where the
 * router decides it; a forged or stale request is refused and writes nothing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { deriveId, TOPICS, type Envelope } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { slackSignature } from './slack/signature';
import { request, type HttpResult, type Target } from './test-support/http';
import { endOffsets } from './test-support/offsets';
import { settled } from './test-support/retry';
import { ingestRig } from './test-support/rig';
import { fixedIdentity } from './slack/identity';
import { historyIncidentLookup } from './slack/incident-lookup';
import type { SlackAppOptions } from './app';

const SECRET = 'test-slash-signing-secret-41c9';
const rig = ingestRig('ingest-slash-test');
const configured = (more: Partial<SlackAppOptions> = {}): SlackAppOptions => ({ signingSecret: SECRET, identity: fixedIdentity({ userId: 'U0BOT' }), ...more });

let unique = 0;
/** The form Slack posts for `/alertbus <text>` (field set of the Slack docs' example). */
function form(text: string, more: Record<string, string> = {}): { body: string; trigger: string } {
  const trigger = `13345224609.738474920.${Date.now()}${++unique}`;
  const body = new URLSearchParams({
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    team_id: 'T0001',
    team_domain: 'example',
    channel_id: 'C2147483705',
    channel_name: 'test',
    user_id: 'U2147483697',
    user_name: 'Steve',
    command: '/alertbus',
    text,
    api_app_id: 'A123456',
    response_url: 'https://hooks.slack.com/commands/1234/5678',
    trigger_id: trigger,
    ...more,
  }).toString();
  return { body, trigger };
}

function signed(body: string, opts: { age?: number; secret?: string } = {}) {
  const ts = String(Math.floor(Date.now() / 1000) - (opts.age ?? 0));
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': ts,
    'x-slack-signature': slackSignature(opts.secret ?? SECRET, ts, Buffer.from(body, 'utf8')),
  };
}

const post = (target: Target, body: string, headers: Record<string, string>) => request(target, 'POST', '/slack/commands', body, headers);

/** Records each topic gained while `fn` ran. */
async function recordsWrittenBy(fn: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await endOffsets(rig.kafka);
  await fn();
  const after = await endOffsets(rig.kafka);
  const out: Record<string, number> = {};
  for (const k of Object.keys(after)) {
    const n = Number(BigInt(after[k]!) - BigInt(before[k] ?? '0'));
    if (n > 0) out[k.slice(0, k.lastIndexOf('/'))] = (out[k.slice(0, k.lastIndexOf('/'))] ?? 0) + n;
  }
  return out;
}

async function slashRecords(id: string) {
  const records = await settled(() => readTopic(rig.kafka, TOPICS.slackReceived));
  return records.filter((r) => r.event?.id === id).map((r) => ({ key: r.key, event: r.event as Envelope<'SlackSlashCommandReceived'> }));
}

test('a signed `/alertbus help` → an empty 200, once its one SlackSlashCommandReceived is on Kafka, keyed by a key of its own', async () => {
  const target = await rig.app({ slack: configured() });
  const { body, trigger } = form('help --public');
  let res!: HttpResult;
  const counts = await recordsWrittenBy(async () => (res = await post(target, body, signed(body))));
  expect([res.statusCode, res.body]).toEqual([200, '']);
  expect(counts).toEqual({ [TOPICS.slackReceived]: 1 });
  const id = deriveId('slack-slash', 'T0001', trigger);
  const [record, ...more] = await slashRecords(id);
  expect(more).toEqual([]);
  expect(record!.key).toBe(`slack-slash:T0001:${trigger}`);
  expect(record!.event).toMatchObject({ type: 'SlackSlashCommandReceived', alias: record!.key, source: 'ingest/slack-commands' });
  expect(record!.event.data).toMatchObject({
    command: '/alertbus',
    text: 'help --public',
    team: 'T0001',
    channel: 'C2147483705',
    user: 'U2147483697',
    userName: 'Steve',
    responseUrl: 'https://hooks.slack.com/commands/1234/5678',
    triggerId: trigger,
    via: 'http',
  });
  // The form as received, without the legacy verification token (a secret).
  expect(record!.event.data.raw).toMatchObject({ channel_name: 'test', team_domain: 'example' });
  expect(JSON.stringify(record!.event.data.raw)).not.toContain('gIkuvaNzQIHg97ATvDxqgjtO');
});

test('a command whose response_url is not on Slack\'s hosts is recorded all the same (the slack-sink answers it through the Web API); the log names the host alone', async () => {
  const lines: string[] = [];
  const target = await rig.app({ slack: configured(), log: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }) });
  const { body, trigger } = form('incidents', { response_url: 'https://hooks.slack.com.evil.example/commands/T0001/1/forged-secret-path' });
  expect((await post(target, body, signed(body))).statusCode).toBe(200);
  const [record] = await slashRecords(deriveId('slack-slash', 'T0001', trigger));
  expect(record?.event.data.responseUrl).toBe('https://hooks.slack.com.evil.example/commands/T0001/1/forged-secret-path');

  const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).includes('response_url not on Slack'));
  expect(warned).toHaveLength(1);
  expect(warned[0]).toMatchObject({ responseUrlHost: 'hooks.slack.com.evil.example' });
  expect(lines.join('\n')).not.toContain('forged-secret-path');

  // Slack's own host: nothing to say.
  const genuine = form('incidents');
  expect((await post(target, genuine.body, signed(genuine.body))).statusCode).toBe(200);
  expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).includes('response_url not on Slack'))).toHaveLength(1);
});

test('`ack <alias>` is keyed by the alias, so it reaches the partition that holds the incident; a resend is the same event', async () => {
  const target = await rig.app({ slack: configured() });
  const { body, trigger } = form('ack alertmanager:0a1b2c');
  expect((await post(target, body, signed(body))).statusCode).toBe(200);
  expect((await post(target, body, signed(body))).statusCode).toBe(200);
  const records = await slashRecords(deriveId('slack-slash', 'T0001', trigger));
  expect(records.map((r) => r.key)).toEqual(['alertmanager:0a1b2c', 'alertmanager:0a1b2c']);
});

test('`ack <incident id>`: keyed by the alias the history API gives; when it cannot be asked, recorded with why under a key of its own', async () => {
  const id = '0f1e2d3c-4b5a-8697-8a8b-9c0d1e2f3a4b';
  const lookups: string[] = [];
  const target = await rig.app({
    slack: configured({ incidents: { aliasOf: async (i) => (lookups.push(i), i === id ? { alias: 'alertmanager:found' } : { problem: 'no incident has that id' }) } }),
  });
  const found = form(`ack ${id}`);
  expect((await post(target, found.body, signed(found.body))).statusCode).toBe(200);
  const [record] = await slashRecords(deriveId('slack-slash', 'T0001', found.trigger));
  expect(record!.key).toBe('alertmanager:found');
  expect(record!.event.data).toMatchObject({ target: { incidentId: id, alias: 'alertmanager:found' } });

  const other = '1f1e2d3c-4b5a-8697-8a8b-9c0d1e2f3a4b';
  const missing = form(`resolve ${other}`);
  expect((await post(target, missing.body, signed(missing.body))).statusCode).toBe(200);
  const [unknown] = await slashRecords(deriveId('slack-slash', 'T0001', missing.trigger));
  expect(unknown!.key).toBe(`slack-slash:T0001:${missing.trigger}`);
  expect(unknown!.event.data).toMatchObject({ targetProblem: 'no incident has that id' });
  expect(unknown!.event.data.target).toBeUndefined();
  expect(lookups).toEqual([id, other]);

  // The real look-up against a history API that answers after 1.3 s (a busy machine): within the 2.5 s ack budget, so
  // found, where a fixed 800 ms bound gave up on it.
  const slowId = '2f1e2d3c-4b5a-8697-8a8b-9c0d1e2f3a4b';
  const slowHistory = createServer((_req, res) => void setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ alias: 'alertmanager:slow' })), 1_300));
  await new Promise<void>((resolve) => slowHistory.listen(0, '127.0.0.1', resolve));
  try {
    const slowApp = await rig.app({ slack: configured({ incidents: historyIncidentLookup({ historyUrl: `http://127.0.0.1:${(slowHistory.address() as AddressInfo).port}` }) }) });
    const slow = form(`ack ${slowId}`);
    expect((await post(slowApp, slow.body, signed(slow.body))).statusCode).toBe(200);
    const [slowRecord] = await slashRecords(deriveId('slack-slash', 'T0001', slow.trigger));
    expect(slowRecord!.key).toBe('alertmanager:slow');
    expect(slowRecord!.event.data).toMatchObject({ target: { incidentId: slowId, alias: 'alertmanager:slow' } });
  } finally {
    await new Promise((resolve) => slowHistory.close(resolve));
  }

  // The real look-up against a history API that is not there: answered in time, recorded with why.
  const down = await historyIncidentLookup({ historyUrl: 'http://127.0.0.1:9', timeoutMs: 500 }).aliasOf(id);
  expect(down).toEqual({ problem: expect.stringContaining('the history API could not be asked') });
});

test('a forged, stale or unsigned command → 401 and nothing on Kafka; without a signing secret → 503', async () => {
  const target = await rig.app({ slack: configured() });
  const { body } = form('resolve alertmanager:0a1b2c');
  const counts = await recordsWrittenBy(async () => {
    expect((await post(target, body, signed(body, { secret: 'not-the-secret' }))).statusCode).toBe(401);
    expect((await post(target, body, signed(body, { age: 301 }))).statusCode).toBe(401);
    expect((await post(target, body, { 'content-type': 'application/x-www-form-urlencoded' })).statusCode).toBe(401);
    // Signed, then changed on the way.
    const headers = signed(body);
    expect((await post(target, body.replace('resolve', 'ack'), headers)).statusCode).toBe(401);
  });
  expect(counts).toEqual({});
  const unconfigured = await rig.app({ slack: { identity: fixedIdentity({ userId: 'U0BOT' }) } });
  expect((await post(unconfigured, body, signed(body))).statusCode).toBe(503);
});

test('another command name is answered at once, privately, and not recorded; a form without the fields is a 400; an ssl_check a bare 200', async () => {
  const target = await rig.app({ slack: configured({ slashCommand: '/ops' }) });
  const { body } = form('help');
  let res!: HttpResult;
  const counts = await recordsWrittenBy(async () => (res = await post(target, body, signed(body))));
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual({ response_type: 'ephemeral', text: expect.stringContaining('This app answers /ops, not /alertbus') });
  expect(counts).toEqual({});
  const bare = 'command=%2Fops&text=help';
  expect((await post(target, bare, signed(bare))).statusCode).toBe(400);
  // Slack's certificate check of the command URL: a 200, nothing else.
  const sslCheck = 'ssl_check=1&token=gIkuvaNzQIHg97ATvDxqgjtO';
  const checked = await recordsWrittenBy(async () => {
    const res = await post(target, sslCheck, { 'content-type': 'application/x-www-form-urlencoded' });
    expect([res.statusCode, res.body]).toEqual([200, '']);
  });
  expect(checked).toEqual({});
});

test('a command from a workspace SLACK_ALLOWED_TEAMS does not name → answered that it may not, nothing written', async () => {
  const target = await rig.app({ slack: configured({ allowedTeams: new Set(['T0OURS']) }) });
  const { body } = form('resolve alertmanager:abc');
  let res!: HttpResult;
  const counts = await recordsWrittenBy(async () => (res = await post(target, body, signed(body))));
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual({ response_type: 'ephemeral', text: 'This workspace (T0001) may not use alertbus here: its team id is not in SLACK_ALLOWED_TEAMS.' });
  expect(counts).toEqual({});
});
