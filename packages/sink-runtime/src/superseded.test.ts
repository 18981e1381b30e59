import { TOPICS, makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import type { ConsumedRecord } from '@alertbus/kafka';
import { supersededIn, type Notifier } from './runner';

const RULE = { path: 'default', rulesVersion: 'test' };
let offset = 0;

function record(id: string, type: 'PostSlackMessage' | 'UpdateSlackMessage', data: Record<string, unknown>): ConsumedRecord {
  const at = '2026-11-30T10:00:00.000Z';
  const event = makeEnvelope({ id, type, alias: 'storm:#alerts:1', occurredAt: at, recordedAt: at, source: 'router', causationId: id, correlationId: id, data } as never);
  return { topic: TOPICS.slackCommands, partition: 0, offset: String(offset++), key: 'storm:#alerts:1', timestamp: '0', headers: {}, value: Buffer.from(JSON.stringify(event)) };
}

const root = (id: string, incidentId = 'storm-1') =>
  record(id, 'PostSlackMessage', { incidentId, rule: RULE, channel: '#alerts', purpose: 'root', text: id });
const reply = (id: string, incidentId = 'storm-1') =>
  record(id, 'PostSlackMessage', { incidentId, rule: RULE, channel: '#alerts', purpose: 'reply', text: id });
const whole = (id: string, incidentId = 'storm-1') =>
  record(id, 'UpdateSlackMessage', { incidentId, rule: RULE, text: id, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: id } }] });
const partial = (id: string, incidentId = 'storm-1') => record(id, 'UpdateSlackMessage', { incidentId, rule: RULE, text: id });

/** The same rule as the Slack sink's: a message per incident, an update with blocks replaces it whole. */
const notifier: Pick<Notifier, 'writes' | 'handles'> = {
  handles: new Set(['PostSlackMessage', 'UpdateSlackMessage']),
  writes(command: AnyEnvelope) {
    const data = command.data as { incidentId: string; purpose?: string; blocks?: unknown[] };
    if (command.type === 'UpdateSlackMessage') return { message: data.incidentId, effect: data.blocks ? 'replace' : 'update' };
    return data.purpose === 'root' ? { message: data.incidentId, effect: 'post' } : undefined;
  },
};

/** Which commands of the batch are skipped, by id, each with the id of the one that replaces it. */
const skipped = (records: ConsumedRecord[]) =>
  Object.fromEntries([...supersededIn(records, notifier)].map(([r, by]) => [JSON.parse(r.value!.toString()).id, by]));

describe('supersededIn', () => {
  it('skips every update of a message but the last whole one, and never a root or a reply', () => {
    expect(skipped([root('r'), whole('u1'), reply('x'), whole('u2'), whole('u3')])).toEqual({ u1: 'u3', u2: 'u3' });
  });

  it('keeps updates of other messages apart', () => {
    expect(skipped([whole('a1', 'A'), whole('b1', 'B'), whole('a2', 'A')])).toEqual({ a1: 'a2' });
  });

  it('lets an update without blocks supersede nothing, since Slack keeps the blocks it does not set', () => {
    expect(skipped([whole('w1'), partial('p1')])).toEqual({});
    expect(skipped([partial('p1'), whole('w1'), partial('p2')])).toEqual({ p1: 'w1' });
  });

  it('does not let an update after a new root post of the message supersede one before it', () => {
    expect(skipped([whole('u1'), root('r2'), whole('u2')])).toEqual({});
  });

  it('ignores records that fail their schema and commands the notifier does not handle', () => {
    const bad: ConsumedRecord = { ...whole('bad'), value: Buffer.from('{"type":"UpdateSlackMessage"}') };
    expect(skipped([whole('u1'), bad])).toEqual({});
    expect(supersededIn([whole('u1'), whole('u2')], { handles: new Set() , writes: notifier.writes })).toEqual(new Map());
  });
});
