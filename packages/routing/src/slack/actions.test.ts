import { deriveId, type AliasState } from '@alertbus/schemas';
import { decide } from '../decider';
import { builtinRules } from '../rules/compile';
import { firing } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { given } from '../test-support/slack-spec';
import { threadKey } from './thread-key';
import { ALICE, BOB, BOT_MENTION, CHANNEL, buttonClick, messageAlias, rootPosted, slackMessage } from '../test-support/slack';
import { NO_INCIDENT_TEXT, OTHER_OCCURRENCE_TEXT, stormThreadText } from './texts';
import { incidentIdOf } from '../core/incident-id';

const builtin = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const rules = rulesFrom('rules.slack.yaml');

/** An alert incident as the alert decider leaves it: a thread in #alerts and a pager alert. */
const A = 'alertmanager:aaaa';
const alertIncident = decide(firing(A), undefined, builtin).state as AliasState;
const I1 = alertIncident.incidentId;
const ROOT_TS = '1700000000.000500';

type Block = { type: string; elements?: Array<{ action_id?: string; value?: string; text?: unknown }>; text?: { text: string }; fields?: Array<{ text: string }> };
const blocksOf = (data: unknown) => (data as { blocks: Block[] }).blocks;
const buttons = (data: unknown) => blocksOf(data).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);

describe('Slack buttons: Acknowledge and Resolve on the incident root message', () => {
  test('given an open alert incident, when Acknowledge is clicked, then it is acknowledged by that user everywhere', () => {
    const { events, sim } = given(builtin, alertIncident)
      .when(buttonClick(A, I1, 'alertbus_ack'))
      .then([
        ['IncidentAcknowledged', { incidentId: I1, status: 'acknowledged', reason: 'acknowledged', by: BOB, rule: alertIncident.rule }],
        ['PostSlackMessage', { incidentId: I1, purpose: 'reply', channel: '#alerts', text: `Acknowledged by <@${BOB}>.` }],
        ['UpdateSlackMessage', { incidentId: I1, text: expect.stringContaining('[ACKNOWLEDGED]') }],
        ['AcknowledgePagerAlert', { incidentId: I1, user: 'bob', note: 'Acknowledged in Slack by bob.' }, A],
      ]);
    expect(JSON.stringify(blocksOf(events[2]!.data))).toContain(`<@${BOB}>`);
    // Resolve stays until the incident is resolved, and still names the incident; Acknowledge has done its part.
    expect(buttons(events[2]!.data).map((b) => [b.action_id, JSON.parse(b.value!)])).toEqual([['alertbus_resolve', { alias: A, incidentId: I1 }]]);
    expect(sim.incident(A)).toMatchObject({ status: 'acknowledged', acknowledgedBy: BOB });
  });

  test('given an acknowledged incident, a second Acknowledge does nothing; Resolve resolves, replies, updates the root and closes the pager alert', () => {
    const g = given(builtin, alertIncident, buttonClick(A, I1, 'alertbus_ack'));
    g.when(buttonClick(A, I1, 'alertbus_ack', { n: 1, at: 1_000 })).then([['EventSuppressed', { reason: 'already-acknowledged', incidentId: I1 }]]);
    const { events } = g.when(buttonClick(A, I1, 'alertbus_resolve', { at: 2_000 })).then([
      ['IncidentResolved', { incidentId: I1, status: 'resolved', by: BOB }],
      ['PostSlackMessage', { purpose: 'reply', text: `Resolved by <@${BOB}>: ${alertIncident.title}` }],
      ['UpdateSlackMessage', { text: expect.stringContaining('[RESOLVED]') }],
      ['ClosePagerAlert', { user: 'bob', note: 'Resolved in Slack by bob.' }, A],
    ]);
    expect(buttons(events[2]!.data)).toEqual([]);
    expect(JSON.stringify(blocksOf(events[2]!.data))).toContain(`*Resolved*\\n<@${BOB}> at <!date^1740823202^{date_short_pretty} {time}|2025-03-01 10:00:02 UTC>`);
  });

  test.each([
    ['a click on a resolved incident', [buttonClick(A, I1, 'alertbus_resolve')], buttonClick(A, I1, 'alertbus_ack', { n: 2 }), 'already-resolved'],
    ['a click on the button of an earlier occurrence', [], buttonClick(A, deriveId('incident', A, 0), 'alertbus_resolve'), 'other-occurrence'],
    ['a click on a button that is not alertbus\'s', [], buttonClick(A, I1, 'some_other_app_button'), 'unknown-action'],
  ] as const)('%s is recorded with its reason and changes nothing', (_name, before, click, reason) => {
    given(builtin, alertIncident, ...before).when(click).then([['EventSuppressed', { reason, incidentId: I1 }]]);
  });

  test('a click for an alias the router has no incident for is recorded', () => {
    given(builtin).when(buttonClick('generic:gone', 'x', 'alertbus_ack')).then([['EventSuppressed', { reason: 'no-incident' }]]);
  });

  test('the same incident acknowledged through Slack then resolved at the source: the root shows both', () => {
    const acked = given(builtin, alertIncident, buttonClick(A, I1, 'alertbus_ack')).sim.incident(A)!;
    const resolved = decide(firing(A, { status: 'resolved', at: 60_000 }), acked, builtin);
    const update = resolved.events.find((e) => e.type === 'UpdateSlackMessage')!;
    expect(buttons(update.data)).toEqual([]);
    expect(JSON.stringify(blocksOf(update.data))).toContain(`<@${BOB}>`);
  });
});

describe('Slack text commands: ack / resolve typed in an incident\'s thread', () => {
  const inThread = (text: string, threadTs: string, channel = 'C0ALERTS', ts = '1700000100.000100') =>
    slackMessage(ts, { text: `${BOT_MENTION} ${text}`, threadTs, channel, user: ALICE });

  test('given the root of an alert incident was posted, when someone types ack in its thread, then the incident is acknowledged by them', () => {
    const g = given(builtin, alertIncident, rootPosted(A, I1, ROOT_TS));
    expect(g.sim.states.get(threadKey('C0ALERTS', ROOT_TS))).toMatchObject({ kind: 'slack-thread', alias: A, incidentId: I1 });
    const ack = inThread('ack', ROOT_TS);
    g.when(ack).then([
      ['EventSuppressed', { reason: 'command' }],
      ['SlackTextCommandReceived', { command: 'ack' }, threadKey('C0ALERTS', ROOT_TS)],
      ['SlackActionReceived', { actionId: 'alertbus_ack', actionType: 'text-command', incidentId: I1, user: { id: ALICE } }, A],
      ['IncidentAcknowledged', { incidentId: I1, by: ALICE }, A],
      ['PostSlackMessage', { purpose: 'reply', text: `Acknowledged by <@${ALICE}>.` }, A],
      ['UpdateSlackMessage', { incidentId: I1 }, A],
      ['AcknowledgePagerAlert', { user: ALICE }, A],
    ]);
    // Typed again: already acknowledged, and the person is told so in the thread.
    g.when(inThread('ack', ROOT_TS, 'C0ALERTS', '1700000100.000200')).then([
      ['EventSuppressed', { reason: 'command' }],
      ['SlackTextCommandReceived', {}, threadKey('C0ALERTS', ROOT_TS)],
      ['SlackActionReceived', {}, A],
      ['EventSuppressed', { reason: 'already-acknowledged' }, A],
      ['PostSlackMessage', { purpose: 'reply', text: 'This incident is already acknowledged.' }, A],
    ]);
  });

  test('given a Slack request that paged, when its requester types resolve in its thread, then it is resolved, the pager alert closed', () => {
    const TS = '1700000000.000100';
    const M = messageAlias(TS);
    const S = incidentIdOf(M, 1, slackMessage(TS).id);
    const g = given(rules, slackMessage(TS, { text: `${BOT_MENTION} the database is down` }));
    g.when(inThread('resolve', TS, CHANNEL)).then([
      ['EventSuppressed', { reason: 'command' }],
      ['SlackTextCommandReceived', { command: 'resolve' }, threadKey(CHANNEL, TS)],
      ['SlackActionReceived', { actionId: 'alertbus_resolve', incidentId: S }, M],
      ['IncidentResolved', { incidentId: S, by: ALICE, source: 'slack' }, M],
      ['PostSlackReply', { incidentId: S, channel: CHANNEL, threadTs: TS, text: `Resolved by <@${ALICE}>: the database is down` }, M],
      ['ClosePagerAlert', { incidentId: S }, M],
    ]);
    g.when(inThread('ack', TS, CHANNEL, '1700000100.000300')).then([
      ['EventSuppressed', {}],
      ['SlackTextCommandReceived', {}, threadKey(CHANNEL, TS)],
      ['SlackActionReceived', {}, M],
      ['EventSuppressed', { reason: 'already-resolved' }, M],
      ['PostSlackReply', { text: 'This incident is already resolved.' }, M],
    ]);
  });

  test('a thread belongs to the first incident linked to it: a request made inside an alert thread does not take it over', () => {
    const g = given(builtin, alertIncident, rootPosted(A, I1, ROOT_TS));
    // The request asks the root's key first whether it is a request to join; an alert's root is not, so it comes back.
    g.when(inThread('can someone look at this?', ROOT_TS)).then([
      ['SlackMessageReceived', {}, messageAlias(ROOT_TS, 'C0ALERTS')],
      ['SlackMessageReceived', {}],
      ['IncidentOpened', { source: 'slack' }], ['ReplyWithOnCall', { threadTs: ROOT_TS }], ['SlackThreadLinked', {}, threadKey('C0ALERTS', ROOT_TS)]]);
    expect(g.sim.states.get(threadKey('C0ALERTS', ROOT_TS))).toMatchObject({ alias: A, incidentId: I1 });
  });

  test('a thread of an earlier occurrence cannot touch the newer one', () => {
    const reopened = { ...alertIncident, incidentId: deriveId('incident', A, 2), occurrence: 2 };
    const g = given(builtin, reopened, rootPosted(A, I1, ROOT_TS));
    g.when(inThread('resolve', ROOT_TS)).then([
      ['EventSuppressed', { reason: 'command' }],
      ['SlackTextCommandReceived', {}, threadKey('C0ALERTS', ROOT_TS)],
      ['SlackActionReceived', { incidentId: I1 }, A],
      ['EventSuppressed', { reason: 'other-occurrence' }, A],
      ['PostSlackMessage', { purpose: 'reply', text: OTHER_OCCURRENCE_TEXT }, A],
    ]);
  });

  test('mention_oncall: once the root of the incident is posted, the on-call is asked into its thread', () => {
    const db = decide(firing(A), undefined, rules).state as AliasState;
    expect(db).toMatchObject({ slackChannel: '#db-alerts', mentionOnCall: 'dba' });
    given(rules, db)
      .when(rootPosted(A, db.incidentId, ROOT_TS, { channel: 'C0DB' }))
      .then([
        ['ReplyWithOnCall', { incidentId: db.incidentId, channel: 'C0DB', threadTs: ROOT_TS, schedule: 'dba', rule: { name: 'databases' } }, A],
        ['SlackThreadLinked', { channel: 'C0DB', threadTs: ROOT_TS, alias: A, incidentId: db.incidentId }, threadKey('C0DB', ROOT_TS)],
      ]);
    // Without mention_oncall (the built-in defaults), only the link.
    given(builtin, alertIncident).when(rootPosted(A, I1, ROOT_TS)).then([['SlackThreadLinked', {}, threadKey('C0ALERTS', ROOT_TS)]]);
  });

  test('no incident in the thread: the person is told; dry-run posts link no thread', () => {
    given(builtin, rootPosted(A, I1, ROOT_TS, { dryRun: true }))
      .when(inThread('ack', ROOT_TS))
      .then([
        ['EventSuppressed', { reason: 'command' }],
        ['SlackTextCommandReceived', {}, threadKey('C0ALERTS', ROOT_TS)],
        ['EventSuppressed', { reason: 'no-incident' }, threadKey('C0ALERTS', ROOT_TS)],
        ['PostSlackReply', { channel: 'C0ALERTS', threadTs: ROOT_TS, text: NO_INCIDENT_TEXT }, threadKey('C0ALERTS', ROOT_TS)],
      ]);
  });

  test('`ack` in a storm summary\'s thread: the thread is linked to the storm, which is no incident; the person is told how to act on one', () => {
    const STORM = 'storm:#alerts:2025-03-01T10:00:00.000Z';
    const STORM_ID = deriveId('storm', '#alerts', '2025-03-01T10:00:00.000Z');
    given(builtin, rootPosted(STORM, STORM_ID, ROOT_TS))
      .when(inThread('ack', ROOT_TS))
      .then([
        ['EventSuppressed', { reason: 'command' }],
        ['SlackTextCommandReceived', {}, threadKey('C0ALERTS', ROOT_TS)],
        ['SlackActionReceived', { incidentId: STORM_ID, actionType: 'text-command' }, STORM],
        ['EventSuppressed', { reason: 'no-incident' }, STORM],
        ['PostSlackReply', { channel: 'C0ALERTS', threadTs: ROOT_TS, text: stormThreadText() }, STORM],
      ]);
    expect(stormThreadText()).toContain('`/alertbus ack &lt;alias&gt;`');
  });

  test('the storm thread\'s hint names the slash command as configured (SLACK_COMMAND), which is what people must type', () => {
    const STORM = 'storm:#alerts:2025-03-01T10:00:00.000Z';
    const STORM_ID = deriveId('storm', '#alerts', '2025-03-01T10:00:00.000Z');
    const renamed = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops', slashCommand: '/incident' });
    const text = stormThreadText('/incident');
    expect(text).toContain('`/incident ack &lt;alias&gt;` or `/incident resolve &lt;alias&gt;`');
    expect(text).not.toContain('/alertbus');
    given(renamed, rootPosted(STORM, STORM_ID, ROOT_TS))
      .when(inThread('ack', ROOT_TS))
      .then([
        ['EventSuppressed', { reason: 'command' }],
        ['SlackTextCommandReceived', {}, threadKey('C0ALERTS', ROOT_TS)],
        ['SlackActionReceived', { incidentId: STORM_ID, actionType: 'text-command' }, STORM],
        ['EventSuppressed', { reason: 'no-incident' }, STORM],
        ['PostSlackReply', { channel: 'C0ALERTS', threadTs: ROOT_TS, text }, STORM],
      ]);
  });
});
