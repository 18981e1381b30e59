/**
 * Who acknowledged or resolved an incident, by name as well as by id: the decided event carries the name the click,
 * the command or the pager gave (`byName`), so the history can show a person where it showed `U012ABCDEF`.
 */
import { deriveId, makeEnvelope, PERSON_NAME_MAX, validateEnvelope, type AliasState, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { decide } from '../decider';
import { builtinRules } from '../rules/compile';
import { firing, T0 } from '../test-support/alerts';
import { pagerAction } from '../test-support/pager';
import { given } from '../test-support/slack-spec';
import { ALICE, BOB, BOT_MENTION, TEAM, buttonClick, rootPosted, slackMessage } from '../test-support/slack';
import { threadKey } from './thread-key';
import { slashKey } from './slash';

const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const A = 'alertmanager:aaaa';
const incident = decide(firing(A), undefined, rules).state as AliasState;
const I1 = incident.incidentId;
const ROOT_TS = '1700000000.000500';

const decided = (events: AnyEnvelope[]) => events.filter((e) => e.type === 'IncidentAcknowledged' || e.type === 'IncidentResolved');

/** The router's outputs for `input`, given the inputs and states before it; each output valid. */
function run(input: Parameters<ReturnType<typeof given>['when']>[0], ...before: Parameters<typeof given>[1][]): { events: AnyEnvelope[] } {
  const events = given(rules, ...before).sim.run(input);
  for (const e of events) expect({ type: e.type, valid: validateEnvelope(e).ok }).toEqual({ type: e.type, valid: true });
  return { events };
}

function slashAck(text: string, userName?: string): Envelope<'SlackSlashCommandReceived'> {
  const id = deriveId('slack-slash', TEAM, text);
  const recordedAt = new Date(T0).toISOString();
  return makeEnvelope({
    id,
    type: 'SlackSlashCommandReceived',
    alias: slashKey(text, TEAM, text),
    occurredAt: recordedAt,
    recordedAt,
    source: 'ingest/slack-commands',
    correlationId: id,
    data: {
      command: '/alertbus',
      text,
      team: TEAM,
      channel: 'C0OPS',
      user: ALICE,
      ...(userName !== undefined ? { userName } : {}),
      responseUrl: 'https://hooks.slack.test/commands/T0TEAM/1/abc',
      triggerId: text,
      via: 'http',
      raw: { test: true },
    },
  });
}

describe('acknowledged / resolved by: the name beside the id', () => {
  test('a click carrying user.name: acknowledged and resolved by the Slack id, with the name', () => {
    const ack = buttonClick(A, I1, 'alertbus_ack', { user: { id: 'U012ABCDEF', name: 'alice.example' } });
    const g = given(rules, incident);
    const acked = g.when(ack).then([
      ['IncidentAcknowledged', { by: 'U012ABCDEF', byName: 'alice.example' }],
      ['PostSlackMessage', {}],
      ['UpdateSlackMessage', {}],
      ['AcknowledgePagerAlert', { user: 'alice.example' }],
    ]);
    expect(decided(acked.events)).toHaveLength(1);
    const resolved = run(buttonClick(A, I1, 'alertbus_resolve', { at: 1_000, user: { id: BOB, name: 'bob' } }), incident, ack);
    expect(decided(resolved.events).map((e) => e.data)).toEqual([expect.objectContaining({ by: BOB, byName: 'bob' })]);
  });

  test('a click without a name: the id only, as before', () => {
    const { events } = run(buttonClick(A, I1, 'alertbus_ack', { user: { id: BOB } }), incident);
    expect(decided(events)[0]!.data).toMatchObject({ by: BOB });
    expect(decided(events)[0]!.data).not.toHaveProperty('byName');
  });

  test('`ack` typed in the thread: the name ingest learned for the message reaches the decision through the thread', () => {
    const typed = slackMessage('1700000100.000100', { text: `${BOT_MENTION} ack`, threadTs: ROOT_TS, channel: 'C0ALERTS', user: ALICE, userName: 'Alice Example' });
    const { events } = run(typed, incident, rootPosted(A, I1, ROOT_TS));
    expect(events.find((e) => e.type === 'SlackTextCommandReceived')).toMatchObject({ alias: threadKey('C0ALERTS', ROOT_TS), data: { user: ALICE, userName: 'Alice Example' } });
    expect(decided(events).map((e) => e.data)).toEqual([expect.objectContaining({ by: ALICE, byName: 'Alice Example' })]);
  });

  test('`/alertbus resolve <alias>`: the command\'s user_name', () => {
    const { events } = run(slashAck(`resolve ${A}`, 'alice'), incident);
    expect(decided(events).map((e) => [e.type, e.data])).toEqual([['IncidentResolved', expect.objectContaining({ by: ALICE, byName: 'alice' })]]);
  });

  test.each([
    ['Acknowledge', 'IncidentAcknowledged'],
    ['Close', 'IncidentResolved'],
  ] as const)('%s in the pager: its username is both the id and the name', (action, type) => {
    const { events } = decide(pagerAction(action, A, { user: 'jane.doe@example.com' }), incident, rules);
    expect(decided(events).map((e) => [e.type, e.data])).toEqual([[type, expect.objectContaining({ by: 'jane.doe@example.com', byName: 'jane.doe@example.com' })]]);
  });

  test('a name past the bound is cut, not refused; blank is no name', () => {
    const long = `${'𝓐'.repeat(PERSON_NAME_MAX)} and more`;
    const cut = decided(run(buttonClick(A, I1, 'alertbus_ack', { user: { id: BOB, name: long } }), incident).events)[0]!;
    expect(Array.from((cut.data as { byName: string }).byName)).toHaveLength(PERSON_NAME_MAX);
    const blank = decided(run(buttonClick(A, I1, 'alertbus_ack', { user: { id: BOB, name: '  ' } }), incident).events)[0]!;
    expect(blank.data).not.toHaveProperty('byName');
  });
});
