/** Dry-run of the thread commands: what would have been sent, with no Slack, Opsgenie or database. */
import pino from 'pino';
import { makeEnvelope, validateEnvelope, type Envelope } from '@alertbus/schemas';
import type { OnCallCache } from './oncall/cache';
import type { CommandSteps } from './steps';
import { ThreadCommands } from './thread-commands';

const RULE = { path: 'default', rulesVersion: 'test' };
const unused = {} as OnCallCache & CommandSteps;
const commands = new ThreadCommands({ cache: unused, steps: unused, log: pino({ level: 'silent' }) });

function cmd<T extends 'ReplyWithOnCall' | 'ClearOnCallCache' | 'PostSlackReply'>(type: T, data: Envelope<T>['data']): Envelope<T> {
  const at = '2026-05-01T12:00:00.000Z';
  return makeEnvelope({ id: `cmd-${type}`, type, alias: 'slack:T1:C1:1.000001', occurredAt: at, recordedAt: at, source: 'router', data } as never) as Envelope<T>;
}

/** The delivery event the runner would build from the outcome must be valid. */
function asDelivery(c: Envelope, outcome: { type: string; data: Record<string, unknown> }) {
  const at = '2026-05-01T12:00:00.000Z';
  const event = makeEnvelope({
    id: 'd',
    type: outcome.type,
    alias: c.alias,
    occurredAt: at,
    recordedAt: at,
    source: 'slack-sink',
    data: { commandId: c.id, commandType: c.type, dryRun: true, attempts: 0, ...outcome.data },
  } as never);
  const valid = validateEnvelope(event);
  if (!valid.ok) throw new Error(valid.error);
  return event.data as Record<string, unknown>;
}

const thread = { channel: 'C1', threadTs: '1.000001' };

test('ReplyWithOnCall dry-run: the acknowledgement it would post, no lookup', () => {
  const c = cmd('ReplyWithOnCall', { rule: RULE, ...thread, schedule: 'ops', acknowledgement: 'Looking…' });
  expect(asDelivery(c, commands.dryRun(c))).toMatchObject({
    outcome: 'dry-run',
    ts: 'dry-run:cmd-ReplyWithOnCall',
    threadTs: '1.000001',
    request: { method: 'chat.postMessage', body: { channel: 'C1', thread_ts: '1.000001', text: 'Looking…', metadata: { event_payload: { command_id: c.id, step: 'ack' } } } },
  });
});

test('PostSlackReply and ClearOnCallCache dry-run', () => {
  const reply = cmd('PostSlackReply', { rule: RULE, ...thread, text: 'help text', incidentId: 'inc-1' });
  expect(asDelivery(reply, commands.dryRun(reply))).toMatchObject({
    channel: 'C1',
    request: { body: { text: 'help text', metadata: { event_payload: { incident_id: 'inc-1', step: 'reply' } } } },
  });
  const clear = cmd('ClearOnCallCache', { rule: RULE, ...thread, requestedBy: 'U1' });
  expect(asDelivery(clear, commands.dryRun(clear))).toMatchObject({ cleared: [], request: { method: 'chat.postMessage' } });
});
