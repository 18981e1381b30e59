/**
 * Opsgenie adds every note it is sent: a note whose add got a 500, a gateway's 502/504 or no answer at all may have been
 * added, and adding it again shows it twice. The sink looks for it among the alert's notes first (List Alert Notes),
 * waiting while the add may still be pending at the pager. Real Kafka and Postgres, the sink with its runner, the
 * Opsgenie stand-in over HTTP.
 */
import { EventProducer } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { startOpsgenieStandIn, type OpsgenieStandIn } from '@alertbus/stand-ins';
import type { Kafka } from 'kafkajs';
import { dropTestDatabase } from '../../../test/support/db';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import type { OpsgenieSinkConfig } from './config';
import { startOpsgenieSink, type OpsgenieSink } from './index';
import { resultOf as resultOfCommand } from './test-support/results';
import { pagerCommand, testSinkConfig } from './test-support/commands';

let kafka: Kafka;
let producer: EventProducer;
let og: OpsgenieStandIn;
let sink: OpsgenieSink | undefined;

/** Requests wait to be processed until the test calls processPending (longer than any test runs). */
const HELD_MS = 60 * 60_000;

const startSink = async (overrides: Partial<OpsgenieSinkConfig> = {}) => {
  await sink?.close();
  sink = await startOpsgenieSink(testSinkConfig(og, { statusPolls: 2, ...overrides }));
};

const resultOf = (cmd: AnyEnvelope) => resultOfCommand(kafka, cmd);

const noteOf = (cmd: AnyEnvelope) => (cmd.data as { note: string }).note;
const noteCommand = (alias: string, note: string) => pagerCommand('AddPagerNote', alias, { note });
const adds = (alias: string) => og.state.calls.filter((c) => c.route === 'notes' && c.identifier === alias);
const listings = (alias: string) => og.state.calls.filter((c) => c.route === 'listNotes' && c.identifier === alias);
const notesOn = (alias: string) => og.state.alerts.find((a) => a.alias === alias)?.notes.map((n) => n.note) ?? [];

/** An open alert with the alias, made through the stand-in's own state (the sink is not what is tested here). */
function openAlert(alias: string): void {
  og.state.create({ message: `Disk almost full on ${alias}`, alias }, 'opsgenie', '127.0.0.1');
}

beforeAll(async () => {
  kafka = await testKafka('opsgenie-unanswered-note');
  producer = new EventProducer(kafka);
  await producer.connect();
  og = await startOpsgenieStandIn();
});

afterAll(async () => {
  await sink?.close();
  await producer?.disconnect();
  await og?.close();
  await dropTestDatabase();
});

afterEach(() => {
  og.state.processPending();
  og.state.processingDelayMs = 0;
  og.state.clearFaults();
});

test.each([500, 502, 504])('a note Opsgenie added before answering %i is found among the alert\'s notes: shown once', async (status) => {
  await startSink();
  const alias = `alertmanager:note-after-${status}`;
  openAlert(alias);
  const cmd = noteCommand(alias, `Still firing (received 2 times), ${status}.`);
  og.state.failNext('notes', { status, afterWork: true });
  await producer.send([cmd]);

  const result = await resultOf(cmd);
  expect(result).toMatchObject({ type: 'PagerNoteAdded', data: { provider: 'opsgenie' } });
  expect(notesOn(alias)).toEqual([noteOf(cmd)]);
  expect(adds(alias).map((c) => c.status)).toEqual([status]);
  expect(listings(alias).length).toBeGreaterThanOrEqual(1);
});

test('a note whose answer was lost while Opsgenie still had it queued is waited for, then found: shown once', async () => {
  await startSink({ createSettleMs: HELD_MS });
  const alias = 'alertmanager:note-lost-pending';
  openAlert(alias);
  og.state.processingDelayMs = HELD_MS;
  const cmd = noteCommand(alias, 'Priority raised from P3 to P1.');
  og.state.loseAnswerNext('notes');
  await producer.send([cmd]);

  // No answer, and not among the notes yet (queued at the pager): the sink keeps looking rather than add it again.
  await waitFor(() => listings(alias).length >= 3 || adds(alias).length >= 2, {
    timeoutMs: 60_000,
    what: 'the notes read while the first add is pending (or a second add)',
  });
  expect(adds(alias)).toEqual([expect.objectContaining({ status: 202, answerLost: true })]);
  expect(notesOn(alias)).toEqual([]);

  og.state.processPending();
  expect(await resultOf(cmd)).toMatchObject({ type: 'PagerNoteAdded' });
  expect(notesOn(alias)).toEqual([noteOf(cmd)]);
  expect(adds(alias)).toHaveLength(1);
});

test('a note the 502 came before (never added) is added once the add can no longer be pending', async () => {
  await startSink({ createSettleMs: 1_000 });
  const alias = 'alertmanager:note-never-added';
  openAlert(alias);
  const cmd = noteCommand(alias, 'Acknowledged by alice.');
  og.state.failNext('notes', { status: 502, body: { message: 'Bad Gateway' } });
  await producer.send([cmd]);

  expect(await resultOf(cmd)).toMatchObject({ type: 'PagerNoteAdded', data: { attempts: 2 } });
  expect(notesOn(alias)).toEqual([noteOf(cmd)]);
  expect(adds(alias).map((c) => c.status)).toEqual([502, 202]);
  expect(listings(alias).length).toBeGreaterThanOrEqual(1);
});
