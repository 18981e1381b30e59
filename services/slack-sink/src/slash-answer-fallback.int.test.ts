/**
 * A slash command's answer that cannot reach its response_url must not hold back its incident's Slack updates: it
 * goes through the Web API instead (in the command's channel as the response_url would have shown it, else in a
 * direct message), and is given up (with why, not dead-lettered) once the response_url is dead or
 * past its lifetime. Real Kafka, real Postgres, the Slack stand-in over HTTP.
 */
import type { Consumer, Kafka } from 'kafkajs';
import pino from 'pino';
import type { DeliveryRetryPolicy } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { deriveId, makeEnvelope, newId, validateEnvelope, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { responseUrl, startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { dropTestDatabase } from '../../../test/support/db';
import { waitFor } from '../../../test/support/wait';
import { startSlackSink, type SlackSink } from './index';
import { baseSinkConfig, kafkaSide } from './test-support/collect';
import { startForeignHost, type ForeignHost } from './test-support/foreign-host';

const TOKEN = 'xoxb-int-test';
const FAST_RETRIES: DeliveryRetryPolicy = { budgetMs: 10 * 60_000, minBackoffMs: 20, maxBackoffMs: 100 };
const RULE = { path: 'default', rulesVersion: 'test' };
const ASKER = 'U0ASKER';
/** The app's direct message with ASKER in the stand-in. */
const ASKER_DM = 'D0ASKER';
/** Where the app and ASKER are; a private channel the app is not in; a channel ASKER is not in. */
const ALERTS = 'C0ALERTS';
const SECRET = 'G0SECRET';
const OTHERS = 'C0OTHERS';
/** The response_url lifetime here: Slack's 30 minutes, shortened so that running out of it takes seconds. */
const LIFETIME_MS = 15_000;

let standIn: SlackStandIn;
let kafka: Kafka;
let producer: EventProducer;
let collector: Consumer;
let sink: SlackSink | undefined;
let foreign: ForeignHost;
const seen: AnyEnvelope[] = [];
const silent = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

const incident = (name: string) => ({ alias: `alertmanager:${name}`, incidentId: deriveId('incident', `alertmanager:${name}`, 1) });
type Incident = ReturnType<typeof incident>;

function envelope<T extends 'PostSlackMessage' | 'AnswerSlashCommand'>(type: T, alias: string, data: Envelope<T>['data'], occurredAt = new Date()): Envelope<T> {
  const id = newId();
  const at = occurredAt.toISOString();
  const event = makeEnvelope({ id, type, alias, occurredAt: at, recordedAt: at, source: 'router', causationId: id, correlationId: id, data } as never) as Envelope<T>;
  const valid = validateEnvelope(event);
  if (!valid.ok) throw new Error(valid.error);
  return event;
}

const post = (inc: Incident, purpose: 'root' | 'reply', text: string) =>
  envelope('PostSlackMessage', inc.alias, { incidentId: inc.incidentId, rule: RULE, channel: '#alerts', purpose, text });

/**
 * The answer to `/alertbus ack <alias>`, as the router sends it: keyed by the incident, stamped with the command's
 * time; typed in `where.channel` (a record written before answers named their channel has none).
 */
const answer = (inc: Incident, url: string, text: string, occurredAt?: Date, where: { channel?: string; responseType?: 'ephemeral' | 'in_channel' } = {}) =>
  envelope(
    'AnswerSlashCommand',
    inc.alias,
    {
      incidentId: inc.incidentId,
      rule: RULE,
      responseUrl: url,
      responseType: where.responseType ?? 'ephemeral',
      requester: ASKER,
      ...(where.channel ? { channel: where.channel } : {}),
      answer: { kind: 'text', text },
    },
    occurredAt,
  );

const ofCommand = (type: string, commandId: string) =>
  seen.filter((e) => e.type === type && (e.data as { commandId?: string }).commandId === commandId);
const deadLetters = (commandId: string) =>
  seen.filter((e) => e.type === 'DeadLettered' && (e.data as { origin: { value: string | null } }).origin.value?.includes(commandId));
const result = (command: AnyEnvelope) =>
  waitFor(() => seen.find((e) => (e.type === 'SlashCommandAnswered' || e.type === 'DeliveryFailed') && (e.data as { commandId?: string }).commandId === command.id), {
    what: `the result of ${command.id}`,
  });
const posted = (command: AnyEnvelope) => waitFor(() => ofCommand('SlackMessagePosted', command.id)[0], { what: `the post of ${command.id}` });
const dmOf = (command: AnyEnvelope) =>
  standIn.state.messages.filter((m) => m.channel === ASKER_DM && m.metadata?.event_payload.command_id === command.id);
/** Ephemeral messages keep no metadata: each test's answer has a text of its own. */
const ephemeralsWith = (text: string) => standIn.state.ephemerals.filter((m) => m.text === text).map((m) => ({ channel: m.channel, user: m.user }));

let unreachable = 0;
/**
 * A response_url of the stand-in's (an origin the sink posts answers to) whose posts end without an answer, as
 * hooks.slack.com behind a proxy letting only slack.com through.
 */
async function refusedUrl(): Promise<string> {
  const id = `T0STANDIN/unreachable-${++unreachable}`;
  standIn.state.unreachableResponseUrls.add(id);
  return responseUrl(standIn.url, id);
}

beforeAll(async () => {
  foreign = await startForeignHost();
  standIn = await startSlackStandIn({
    tokens: [TOKEN],
    channels: [
      { id: ALERTS, name: 'alerts' },
      { id: SECRET, name: 'secret', isPrivate: true, withoutApp: true },
      { id: OTHERS, name: 'others', members: ['U0OTHER'] },
    ],
    users: [
      { id: ASKER, name: 'asker' },
      { id: 'U0OTHER', name: 'other' },
    ],
  });
  ({ kafka, producer, collector } = await kafkaSide('slash-answer-int', seen, silent));
  sink = await startSlackSink({
    ...baseSinkConfig(TOKEN, standIn.url, silent),
    retryPolicy: FAST_RETRIES,
    updateHoldMs: 0,
    responseUrlLifetimeMs: LIFETIME_MS,
  });
});

afterAll(async () => {
  await sink?.close();
  await collector?.disconnect();
  await producer?.disconnect();
  await standIn?.close();
  await foreign?.close();
  await dropTestDatabase();
});

describe('a slash command answer whose response_url cannot be reached', () => {
  it('is shown at once to who asked in the channel they typed the command in, and the incident\'s next Slack command follows it', async () => {
    const A = incident('answer-in-channel');
    const root = post(A, 'root', '[FIRING] Disk full on db-2');
    await producer.send([root]);
    await posted(root);

    const text = 'Acknowledged `alertmanager:answer-in-channel` <!channel>';
    const ack = answer(A, await refusedUrl(), text, undefined, { channel: ALERTS });
    const resolved = post(A, 'reply', 'Resolved');
    await producer.send([ack, resolved]);

    const answered = await result(ack);
    expect(answered.type).toBe('SlashCommandAnswered');
    expect(answered.data).toMatchObject({ commandId: ack.id, attempts: 1, responseType: 'ephemeral', kind: 'text' });
    // Ephemeral, as the response_url would have shown it: only who asked sees it, where they asked.
    expect(ephemeralsWith(text)).toEqual([{ channel: ALERTS, user: ASKER }]);
    expect(dmOf(ack)).toEqual([]);
    expect(standIn.state.messages.filter((m) => m.text === text)).toEqual([]);

    expect((await posted(resolved)).data).toMatchObject({ purpose: 'reply', attempts: 1 });
    expect(ofCommand('DeliveryDelayed', ack.id)).toEqual([]);
    expect(deadLetters(ack.id)).toEqual([]);
  });

  it('an `in_channel` answer is a message in that channel', async () => {
    const P = incident('answer-public');
    const text = 'Open incidents (0): none, said in public';
    const list = answer(P, await refusedUrl(), text, undefined, { channel: ALERTS, responseType: 'in_channel' });
    await producer.send([list]);

    expect((await result(list)).type).toBe('SlashCommandAnswered');
    expect(standIn.state.messages.filter((m) => m.text === text).map((m) => [m.channel, m.metadata?.event_payload.command_id])).toEqual([[ALERTS, list.id]]);
    expect(ephemeralsWith(text)).toEqual([]);
    expect(dmOf(list)).toEqual([]);
  });

  it('goes to who asked directly when the app cannot show it in the channel: a private channel it is not in, or who asked is not in it', async () => {
    const S = incident('answer-secret');
    const secret = answer(S, await refusedUrl(), 'Acknowledged in a private channel', undefined, { channel: SECRET });
    const others = answer(S, await refusedUrl(), 'Acknowledged in a channel of others', undefined, { channel: OTHERS });
    await producer.send([secret, others]);

    for (const [command, refused] of [[secret, 'channel_not_found'], [others, 'user_not_in_channel']] as const) {
      const answered = await result(command);
      expect(answered.type).toBe('SlashCommandAnswered');
      expect(answered.data).toMatchObject({ attempts: 1 });
      expect(dmOf(command).map((m) => m.text)).toEqual([command.data.answer.kind === 'text' ? command.data.answer.text : '']);
      expect(standIn.state.calls.filter((c) => c.method === 'chat.postEphemeral' && c.args.channel === command.data.channel).map((c) => c.error)).toEqual([refused]);
      expect(ofCommand('DeliveryDelayed', command.id)).toEqual([]);
    }
    expect(ephemeralsWith('Acknowledged in a private channel')).toEqual([]);
    expect(ephemeralsWith('Acknowledged in a channel of others')).toEqual([]);
  });

  it('waits while Slack cannot show it in the channel (a 503), then shows it there, not in a direct message', async () => {
    const W = incident('answer-waits');
    standIn.state.failNext('chat.postEphemeral', { status: 503 }, 2);
    const text = 'Acknowledged after Slack came back';
    const ack = answer(W, await refusedUrl(), text, undefined, { channel: ALERTS });
    await producer.send([ack]);

    const answered = await result(ack);
    expect(answered.type).toBe('SlashCommandAnswered');
    expect(answered.data).toMatchObject({ attempts: 3 });
    expect(ofCommand('DeliveryDelayed', ack.id)).toHaveLength(2);
    expect(ephemeralsWith(text)).toEqual([{ channel: ALERTS, user: ASKER }]);
    expect(dmOf(ack)).toEqual([]);
  });

  it('of a command recorded before answers named their channel goes through the Web API at once to who asked, and the incident\'s next Slack command follows it', async () => {
    const A = incident('answer-unreachable');
    const root = post(A, 'root', '[FIRING] Disk full on db-1');
    await producer.send([root]);
    await posted(root);

    const ack = answer(A, await refusedUrl(), 'Acknowledged `alertmanager:answer-unreachable` <!channel>');
    const resolved = post(A, 'reply', 'Resolved');
    await producer.send([ack, resolved]);

    const answered = await result(ack);
    expect(answered.type).toBe('SlashCommandAnswered');
    expect(answered.data).toMatchObject({ commandId: ack.id, attempts: 1, responseType: 'ephemeral', kind: 'text' });
    // Shown to who asked, in the app's conversation with them, with the text as the router escaped it.
    expect(dmOf(ack).map((m) => m.text)).toEqual(['Acknowledged `alertmanager:answer-unreachable` <!channel>']);
    const callsFor = standIn.state.calls.filter((c) => JSON.stringify(c.args).includes(ack.id) || c.args.text === 'Acknowledged `alertmanager:answer-unreachable` <!channel>');
    expect(callsFor.map((c) => [c.method, c.args.channel])).toEqual([['chat.postMessage', ASKER]]);

    expect((await posted(resolved)).data).toMatchObject({ purpose: 'reply', attempts: 1 });
    expect(ofCommand('DeliveryDelayed', ack.id)).toEqual([]);
    expect(deadLetters(ack.id)).toEqual([]);
  });

  it('waits while the Web API fails too, then is given up with why once the response_url has expired; later commands go through', async () => {
    const B = incident('answer-nowhere');
    const root = post(B, 'root', '[FIRING] Queue stuck');
    await producer.send([root]);
    await posted(root);

    standIn.state.failFor('chat.postMessage', { status: 503 }, 10 * 60_000);
    const ack = answer(B, await refusedUrl(), 'Acknowledged');
    const resolved = post(B, 'reply', 'Resolved');
    await producer.send([ack, resolved]);

    await waitFor(() => ofCommand('DeliveryDelayed', ack.id).length > 0, { what: 'the answer waiting' });
    const given = await result(ack);
    standIn.state.clearFaults();

    expect(given.type).toBe('DeliveryFailed');
    expect(given.data).toMatchObject({ commandId: ack.id, commandType: 'AnswerSlashCommand', target: 'slack', permanent: true });
    expect(String((given.data as { error: string }).error)).toMatch(/^response-url-expired: /);
    expect(dmOf(ack)).toEqual([]);
    expect((await posted(resolved)).data).toMatchObject({ purpose: 'reply' });
    expect(deadLetters(ack.id)).toEqual([]);
  });
});

describe('a slash command answer whose response_url is not on Slack\'s hosts (a record already on Kafka)', () => {
  it('is never posted there: who asked reads it through the Web API where they typed it; not dead-lettered', async () => {
    const F = incident('answer-foreign');
    const text = 'Open incidents (1): • checkout down';
    const list = answer(F, `${foreign.url}/commands/T0STANDIN/1/forged-secret`, text, undefined, { channel: ALERTS });
    const inPublic = answer(F, `${foreign.url}/commands/T0STANDIN/2/forged-secret`, `${text} (in public)`, undefined, { channel: ALERTS, responseType: 'in_channel' });
    const next = post(F, 'root', '[FIRING] Checkout down');
    await producer.send([list, inPublic, next]);

    for (const c of [list, inPublic]) {
      const answered = await result(c);
      expect(answered.type).toBe('SlashCommandAnswered');
      expect(answered.data).toMatchObject({ commandId: c.id, attempts: 1 });
      expect(ofCommand('DeliveryDelayed', c.id)).toEqual([]);
      expect(deadLetters(c.id)).toEqual([]);
    }
    expect(ephemeralsWith(text)).toEqual([{ channel: ALERTS, user: ASKER }]);
    expect(standIn.state.messages.filter((m) => m.text === `${text} (in public)`).map((m) => m.channel)).toEqual([ALERTS]);
    await posted(next);
    expect(foreign.requests).toEqual([]);
  });

  it('with no way through the Web API either, is given up saying why, never posted there nor dead-lettered', async () => {
    const G = incident('answer-foreign-nowhere');
    // In no channel the app can write to, and to a user the app cannot write to: Slack refuses both for good.
    const lost = envelope('AnswerSlashCommand', G.alias, {
      incidentId: G.incidentId,
      rule: RULE,
      responseUrl: `${foreign.url}/commands/T0STANDIN/3/forged-secret`,
      responseType: 'ephemeral',
      requester: 'U0NOBODY',
      channel: SECRET,
      answer: { kind: 'text', text: 'Acknowledged' },
    });
    await producer.send([lost]);
    const given = await result(lost);
    expect(given.type).toBe('DeliveryFailed');
    expect(String((given.data as { error: string }).error)).toMatch(/^requester-unreachable: response-url-not-slack: response_url is on http:\/\/127\.0\.0\.1:\d+, not on Slack's/);
    expect(String((given.data as { error: string }).error)).not.toContain('forged-secret');
    expect(deadLetters(lost.id)).toEqual([]);
    expect(foreign.requests).toEqual([]);
  });
});

describe('a slash command answer Slack will not take any more', () => {
  it('is given up at once when the response_url is used up or expired, not dead-lettered', async () => {
    const C = incident('answer-refused');
    const used = responseUrl(standIn.url, 'used-up');
    for (let i = 0; i < 5; i++) {
      const res = await fetch(used, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `answer ${i}` }) });
      expect(res.status).toBe(200);
    }
    standIn.state.expiredResponseUrls.add('expired');
    const usedAnswer = answer(C, used, 'Acknowledged');
    const expiredAnswer = answer(C, responseUrl(standIn.url, 'expired'), 'Acknowledged');
    const next = post(C, 'root', '[FIRING] Fan failure');
    await producer.send([usedAnswer, expiredAnswer, next]);

    const [u, e] = [await result(usedAnswer), await result(expiredAnswer)];
    expect(u.data).toMatchObject({ attempts: 1, httpStatus: 404, permanent: true });
    expect(String((u.data as { error: string }).error)).toMatch(/^response-url-used: .*used_url/);
    expect(e.data).toMatchObject({ attempts: 1, httpStatus: 404, permanent: true });
    expect(String((e.data as { error: string }).error)).toMatch(/^response-url-expired: .*expired_url/);
    expect([u.type, e.type]).toEqual(['DeliveryFailed', 'DeliveryFailed']);
    for (const c of [usedAnswer, expiredAnswer]) {
      expect(ofCommand('DeliveryDelayed', c.id)).toEqual([]);
      expect(deadLetters(c.id)).toEqual([]);
      expect(dmOf(c)).toEqual([]);
    }
    await posted(next);
  });

  it('is given up without a call once the command is older than the response_url lives', async () => {
    const D = incident('answer-late');
    const id = 'late';
    const late = answer(D, responseUrl(standIn.url, id), 'Acknowledged', new Date(Date.now() - LIFETIME_MS - 1_000));
    await producer.send([late]);

    const given = await result(late);
    expect(given.type).toBe('DeliveryFailed');
    expect(String((given.data as { error: string }).error)).toMatch(/^response-url-expired: the slash command was given at /);
    expect(standIn.state.responses.filter((r) => r.id === id)).toEqual([]);
    expect(dmOf(late)).toEqual([]);
    expect(deadLetters(late.id)).toEqual([]);
  });
});
