/** Interactivity payloads → SlackActionReceived, over the real block_actions fixtures. */
import { makeEnvelope, validateEnvelope } from '@alertbus/schemas';
import { fixture } from '../../../../test/support/fixtures';
import { normaliseInteraction, parseButtonValue } from './normalise-action';

type Payload = { type: string } & Record<string, unknown>;
const docsExample = () => fixture<Payload & { actions: Array<Record<string, unknown>> }>('slack/block_actions_button_docs_example.json');
const VALUE = JSON.stringify({ alias: 'alertmanager:a1bc48475b20e73d', incidentId: 'b9f7c0aa-1111-8222-8333-444455556666' });

function actions(payload: Payload) {
  const r = normaliseInteraction(payload);
  if (r.outcome !== 'actions') throw new Error(JSON.stringify(r));
  for (const a of r.actions) {
    const v = validateEnvelope(makeEnvelope({ id: 'x', type: 'SlackActionReceived', alias: a.alias, occurredAt: a.occurredAt!, recordedAt: a.occurredAt!, source: 't', data: a.data }));
    if (!v.ok) throw new Error(v.error);
  }
  return r.actions;
}

test('an alertbus button → keyed by the incident alias in its value, with who clicked and where', () => {
  const payload = docsExample();
  payload.actions[0] = { ...payload.actions[0], action_id: 'alertbus_ack', value: VALUE };
  const [a, ...rest] = actions(payload);
  expect(rest).toHaveLength(0);
  expect(a!.alias).toBe('alertmanager:a1bc48475b20e73d');
  expect(a!.occurredAt).toBe('2019-01-25T14:26:57.840Z');
  expect(a!.data).toEqual({
    actionId: 'alertbus_ack',
    blockId: '=qXel',
    actionType: 'button',
    value: VALUE,
    incidentId: 'b9f7c0aa-1111-8222-8333-444455556666',
    user: { id: 'UA8RXUSPL', name: 'jtorrance' },
    team: 'T9TK3CUKW',
    channel: 'CBR2V3XEX',
    messageTs: '1548261231.000200',
    actionTs: '1548426417.840180',
    responseUrl: 'https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09sSasdasdAS9091209',
    triggerId: '12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3',
    raw: { ...payload, token: undefined },
  });
});

test('the legacy verification token is not kept in raw (a secret, on Kafka for as long as the topic); the payload is left as it was', () => {
  const payload = docsExample();
  expect(payload).toHaveProperty('token');
  const [a] = actions(payload);
  expect(a!.data.raw).not.toHaveProperty('token');
  expect(payload).toHaveProperty('token');
});

test('a button whose value is not an alertbus value is still recorded, keyed by the message', () => {
  const [a] = actions(docsExample());
  expect(a!.alias).toBe('slack:T9TK3CUKW:CBR2V3XEX:1548261231.000200');
  expect(a!.data.value).toBe('click_me_123');
  expect(a!.data.incidentId).toBeUndefined();
});

test('one event per action', () => {
  const payload = docsExample();
  payload.actions.push({ ...payload.actions[0], action_id: 'alertbus_resolve', value: VALUE });
  expect(actions(payload).map((a) => [a.data.actionId, a.alias])).toEqual([
    ['WaXA', 'slack:T9TK3CUKW:CBR2V3XEX:1548261231.000200'],
    ['alertbus_resolve', 'alertmanager:a1bc48475b20e73d'],
  ]);
});

test('clicks on an App Home view and other interaction types are ignored; broken payloads are invalid', () => {
  expect(normaliseInteraction(fixture('slack/block_actions_button_home_view_real.json'))).toMatchObject({ outcome: 'ignored' });
  expect(normaliseInteraction({ type: 'view_submission' })).toMatchObject({ outcome: 'ignored' });
  const noUser = { ...docsExample(), user: {} };
  expect(normaliseInteraction(noUser)).toEqual({ outcome: 'invalid', message: 'block_actions payload without user.id' });
  expect(normaliseInteraction({ ...docsExample(), actions: [] })).toMatchObject({ outcome: 'invalid' });
});

test.each([
  ['click_me_123', undefined],
  ['{"alias":"x"}', undefined],
  ['{"alias":"","incidentId":"i"}', undefined],
  ['{not json', undefined],
  ['{"alias":"generic:a","incidentId":"i-1","extra":1}', { alias: 'generic:a', incidentId: 'i-1' }],
])('parseButtonValue(%s)', (value, expected) => {
  expect(parseButtonValue(value)).toEqual(expected);
});
