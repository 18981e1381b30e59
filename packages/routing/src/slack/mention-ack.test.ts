/**
 * `@alertbus ack|resolve <alias>` outside the incident's thread: keyed by that alias, it does what `/alertbus ack <alias>` does;
 * by incident id, keyed by the alias ingest found for it, on that occurrence only.
 */
import type { AliasState, Envelope } from '@alertbus/schemas';
import { decide } from '../decider';
import { builtinRules } from '../rules/compile';
import { firing, HOUR, MINUTE, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { threadKey } from './thread-key';
import { given } from '../test-support/slack-spec';
import { ALICE, BOB, BOT_MENTION, CHANNEL, TEAM, messageAlias, rootPosted, slackMessage, SlackRouterSim, type MessageInit } from '../test-support/slack';
import { namedIncidentCommand, namedIncidentId } from './mention-key';
import { NO_SUCH_INCIDENT } from './slash';
import { otherIncidentText } from './texts';

const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const A = 'alertmanager:aaaa';
const incident = decide(firing(A), undefined, rules).state as AliasState;
const I1 = incident.incidentId;
const TS = '1740900100.000200';

/** A mention as ingest writes it: keyed as namedIncidentCommand says (the alias it names), else by the message. */
function mention(text: string, init: MessageInit = {}): Envelope<'SlackMessageReceived'> {
  const m = slackMessage(init.ts ?? TS, { text: `${BOT_MENTION} ${text}`, ...init });
  return { ...m, alias: namedIncidentCommand(m.data)?.alias ?? m.alias };
}

describe('which mentions are keyed by the incident they name', () => {
  const fields = (text: string, more: Partial<Parameters<typeof namedIncidentCommand>[0]> = {}) => ({
    kind: 'mention' as const,
    team: TEAM,
    channel: CHANNEL,
    ts: TS,
    text: `${BOT_MENTION} ${text}`,
    ...more,
  });
  test.each([
    ['ack by mention', fields(`ack ${A}`), { command: 'ack', alias: A }],
    ['acknowledge in a DM', fields(`acknowledge ${A}`, { kind: 'dm', text: `acknowledge ${A}` }), { command: 'ack', alias: A }],
    ['resolve, in another thread', fields(`RESOLVE ${A}`, { threadTs: '1699999999.000001' }), { command: 'resolve', alias: A }],
    ['Slack\'s escapes undone, as the slash command reads them', fields('ack generic:a&amp;b'), { command: 'ack', alias: 'generic:a&b' }],
    ['bare ack (the thread\'s own path)', fields('ack'), undefined],
    ['a request', fields('checkout is slow'), undefined],
    ['the alias of the thread it is in (the thread\'s own path)', fields(`ack ${messageAlias('1699999999.000001')}`, { threadTs: '1699999999.000001' }), undefined],
    ['a plain channel message (the app_mention twin acts)', fields(`ack ${A}`, { kind: 'message' }), undefined],
    ['an edit', fields(`ack ${A}`, { kind: 'edit' }), undefined],
    ['an incident id ingest found no alias for (no target)', fields('ack 0b1e9c3a-1111-8222-9333-444455556666'), undefined],
    ['longer than any alias', fields(`ack a${'x'.repeat(600)}`), undefined],
    ['a quoted alias with spaces, as the slash command takes it', fields('ack "generic:db 1 disk"'), { command: 'ack', alias: 'generic:db 1 disk' }],
    ['Slack\'s smart quotes', fields('resolve “generic:db 1 disk”'), { command: 'resolve', alias: 'generic:db 1 disk' }],
    ['a quoted alias without spaces: the quotes are not part of it', fields(`ack "${A}"`), { command: 'ack', alias: A }],
  ] as const)('%s', (_name, m, expected) => {
    expect(namedIncidentCommand(m)).toEqual(expected);
  });
});

describe('`@alertbus ack <alias>` in a channel acts as `/alertbus ack <alias>`', () => {
  test('given an open incident, ack by mention acknowledges it (note in its thread, root updated, pager acked) and replies to the mention; a redelivery does nothing again', () => {
    const g = given(rules, incident);
    const ack = mention(`ack ${A}`);
    expect(ack.alias).toBe(A);
    const { sim } = g.when(ack).then([
      ['IncidentAcknowledged', { incidentId: I1, by: ALICE, status: 'acknowledged' }],
      ['PostSlackMessage', { purpose: 'reply', text: `Acknowledged by <@${ALICE}>.` }],
      ['UpdateSlackMessage', { incidentId: I1, text: expect.stringContaining('[ACKNOWLEDGED]') }],
      ['AcknowledgePagerAlert', { incidentId: I1 }],
      ['PostSlackReply', { incidentId: I1, channel: CHANNEL, threadTs: TS, text: `Acknowledged: ${incident.title} (\`${A}\`)` }],
    ]);
    expect(sim.incident(A)).toMatchObject({ status: 'acknowledged', acknowledgedBy: ALICE, lastInputId: ack.id });
    expect(sim.states.has(messageAlias(TS))).toBe(false);
    g.when(ack).then([['EventSuppressed', { reason: 'duplicate', incidentId: I1 }]]);
  });

  test('resolve in a DM resolves it; ack after that is refused to the writer alone, where they wrote', () => {
    const g = given(rules, incident);
    g.when(mention(`resolve ${A}`, { kind: 'dm', channel: 'D0ALICE', text: `resolve ${A}` })).then([
      ['IncidentResolved', { incidentId: I1, by: ALICE }],
      ['PostSlackMessage', { purpose: 'reply' }],
      ['UpdateSlackMessage', { text: expect.stringContaining('[RESOLVED]') }],
      ['ClosePagerAlert', { incidentId: I1 }],
      ['PostSlackReply', { channel: 'D0ALICE', threadTs: TS, text: `Resolved: ${incident.title} (\`${A}\`)` }],
    ]);
    g.when(mention(`ack ${A}`, { ts: '1740900200.000300', user: BOB, threadTs: '1740900150.000100' })).then([
      // Written in a thread: its record says whether it is the incident's (it is not), and it comes back.
      ['SlackMessageReceived', {}, threadKey(CHANNEL, '1740900150.000100')],
      ['SlackMessageReceived', {}],
      ['EventSuppressed', { reason: 'already-resolved', inputType: 'SlackMessageReceived', incidentId: I1 }],
      ['PostSlackEphemeral', { channel: CHANNEL, user: BOB, threadTs: '1740900150.000100', text: `${incident.title} (\`${A}\`) is already resolved.` }],
    ]);
  });

  test('an already acknowledged incident: nothing again, said to the writer in the channel', () => {
    const g = given(rules, incident, mention(`ack ${A}`));
    g.when(mention(`acknowledge ${A}`, { ts: '1740900300.000100', user: BOB })).then([
      ['EventSuppressed', { reason: 'already-acknowledged', incidentId: I1 }],
      ['PostSlackEphemeral', { channel: CHANNEL, user: BOB, text: `${incident.title} (\`${A}\`) is already acknowledged.` }],
    ]);
  });

  test('an alias nobody knows: nothing opens or pages, the writer is told (escaped), and the alias holds no state', () => {
    const { sim } = given(rules).when(mention('ack nope:<!channel>'.replace('<', '&lt;').replace('>', '&gt;'))).then([
      ['EventSuppressed', { reason: 'no-incident' }],
      ['PostSlackEphemeral', { user: ALICE, text: expect.stringMatching(/^I know of no incident with the alias `nope:&lt;!channel&gt;`/) }],
    ]);
    expect(sim.states.size).toBe(0);
  });

  test('permissions: someone whose role may not ack is refused privately, and the incident stays open', () => {
    const strict = rulesFrom('rules.permissions.yaml');
    const open = decide(firing(A), undefined, strict).state as AliasState;
    const { sim } = given(strict, open).when(mention(`ack ${A}`)).then([
      ['EventSuppressed', { reason: 'not-permitted', refused: expect.objectContaining({ action: 'ack', user: ALICE }) }],
      ['PostSlackEphemeral', { channel: CHANNEL, user: ALICE, text: expect.stringContaining('acknowledge this incident') }],
    ]);
    expect(sim.incident(A)).toMatchObject({ status: 'open' });
    // Someone the file lets ack does.
    given(strict, open).when(mention(`ack ${A}`, { user: BOB })).then([
      ['IncidentAcknowledged', { by: BOB }],
      ['PostSlackMessage', {}],
      ['UpdateSlackMessage', {}],
      ['AcknowledgePagerAlert', {}],
      ['PostSlackReply', { threadTs: TS }],
    ]);
  });

  test('a mention redelivered after the alert fired again (a new occurrence) does nothing to the new occurrence, and says nothing', () => {
    // Slack's ts: seconds since the epoch. Written a minute after the first occurrence opened.
    const written = ((T0 + MINUTE) / 1000).toFixed(6);
    const resolve = mention(`resolve ${A}`, { ts: written, at: MINUTE });
    const g = given(rules, incident);
    g.when(resolve).then([
      ['IncidentResolved', { incidentId: I1, by: ALICE }],
      ['PostSlackMessage', { purpose: 'reply' }],
      ['UpdateSlackMessage', { text: expect.stringContaining('[RESOLVED]') }],
      ['ClosePagerAlert', { incidentId: I1 }],
      ['PostSlackReply', { threadTs: written }],
    ]);
    const second = decide(firing(A, { at: HOUR, n: 1 }), g.sim.incident(A), rules).state as AliasState;
    expect(second).toMatchObject({ occurrence: 2, status: 'open' });
    // The same event again (same ts, same id), recorded after the second occurrence opened.
    const { sim } = given(rules, second).when({ ...resolve, recordedAt: new Date(T0 + 2 * HOUR).toISOString() }).then([
      ['EventSuppressed', { reason: 'other-occurrence', incidentId: second.incidentId }],
    ]);
    expect(sim.incident(A)).toMatchObject({ occurrence: 2, status: 'open', incidentId: second.incidentId });
    // A mention written after it opened acts on it.
    const later = ((T0 + HOUR + MINUTE) / 1000).toFixed(6);
    given(rules, second).when(mention(`resolve ${A}`, { ts: later, at: HOUR + MINUTE })).then([
      ['IncidentResolved', { incidentId: second.incidentId }],
      ['PostSlackMessage', { purpose: 'reply' }],
      ['UpdateSlackMessage', {}],
      ['ClosePagerAlert', { incidentId: second.incidentId }],
      ['PostSlackReply', { threadTs: later }],
    ]);
  });

  test('in the incident\'s own thread it is that thread\'s ack: one note there, no second answer; a redelivery does nothing', () => {
    const ROOT = '1740900000.000100';
    const g = given(rules, incident, rootPosted(A, I1, ROOT));
    const ack = mention(`ack ${A}`, { channel: 'C0ALERTS', threadTs: ROOT });
    expect(ack.alias).toBe(A);
    g.when(ack).then([
      ['SlackMessageReceived', {}, threadKey('C0ALERTS', ROOT)],
      ['SlackActionReceived', { actionType: 'text-command', incidentId: I1, user: { id: ALICE } }],
      ['IncidentAcknowledged', { incidentId: I1, by: ALICE }],
      ['PostSlackMessage', { purpose: 'reply', text: `Acknowledged by <@${ALICE}>.` }],
      ['UpdateSlackMessage', { incidentId: I1 }],
      ['AcknowledgePagerAlert', { incidentId: I1 }],
    ]);
    g.when(ack).then([['EventSuppressed', { reason: 'duplicate', incidentId: I1 }]]);
  });

  test('in another thread of the same channel it acts and answers in that thread; a redelivery does nothing', () => {
    const ROOT = '1740900000.000100';
    const OTHER = '1740900050.000100';
    const g = given(rules, incident, rootPosted(A, I1, ROOT));
    const ack = mention(`ack ${A}`, { channel: 'C0ALERTS', threadTs: OTHER });
    g.when(ack).then([
      ['SlackMessageReceived', {}, threadKey('C0ALERTS', OTHER)],
      ['SlackMessageReceived', {}],
      ['IncidentAcknowledged', { incidentId: I1, by: ALICE }],
      ['PostSlackMessage', { purpose: 'reply', text: `Acknowledged by <@${ALICE}>.` }],
      ['UpdateSlackMessage', { incidentId: I1 }],
      ['AcknowledgePagerAlert', { incidentId: I1 }],
      ['PostSlackReply', { channel: 'C0ALERTS', threadTs: OTHER, text: `Acknowledged: ${incident.title} (\`${A}\`)` }],
    ]);
    g.when(ack).then([['EventSuppressed', { reason: 'duplicate', incidentId: I1 }]]);
  });

  test('in the thread a Slack request is answered in, its note there is the one answer', () => {
    // A request written in another message's thread: its incident is answered in that thread.
    const THREAD = '1740900000.000100';
    const asked = slackMessage('1740900010.000100', { threadTs: THREAD });
    const g = given(rules, asked);
    const R = messageAlias('1740900010.000100');
    expect(g.sim.incident(R)).toMatchObject({ slackRequest: { threadTs: THREAD } });
    const ack = mention(`ack ${R}`, { threadTs: THREAD });
    expect(ack.alias).toBe(R);
    g.when(ack).then([
      ['IncidentAcknowledged', { by: ALICE }],
      ['PostSlackReply', { channel: CHANNEL, threadTs: THREAD, text: `Acknowledged by <@${ALICE}>.` }],
    ]);
  });

  test('a quoted alias with spaces (straight or smart quotes) acknowledges that incident instead of opening a request', () => {
    const SPACED = 'generic:db 1 disk';
    const spaced = decide(firing(SPACED), undefined, rules).state as AliasState;
    for (const text of [`ack "${SPACED}"`, `acknowledge “${SPACED}”`]) {
      const ack = mention(text);
      expect(ack.alias).toBe(SPACED);
      given(rules, spaced).when(ack).then([
        ['IncidentAcknowledged', { incidentId: spaced.incidentId, by: ALICE }],
        ['PostSlackMessage', { purpose: 'reply' }],
        ['UpdateSlackMessage', {}],
        ['AcknowledgePagerAlert', {}],
        ['PostSlackReply', { threadTs: TS, text: `Acknowledged: ${spaced.title} (\`${SPACED}\`)` }],
      ]);
    }
  });

  test('records written before quotes were understood decide as they did: a quoted alias with spaces a request, a quoted one keyed with its quotes', () => {
    // Keyed by its own message, as ingest keyed it: a request for help then (the incident, the on-call asked), so again.
    const spacedBefore = slackMessage(TS, { text: `${BOT_MENTION} ack "generic:db 1 disk"` });
    const asked = new SlackRouterSim(rules).run(spacedBefore);
    expect(asked.map((e) => e.type)).toEqual(['IncidentOpened', 'ReplyWithOnCall', 'SlackThreadLinked']);
    expect(asked[0]).toMatchObject({ alias: messageAlias(TS), data: { title: 'ack "generic:db 1 disk"' } });
    // Keyed by the alias with its quotes: no incident there then, so none now (the unquoted alias's is not touched).
    const quotedBefore = { ...slackMessage(TS, { text: `${BOT_MENTION} ack "${A}"` }), alias: `"${A}"` };
    given(rules, incident).when(quotedBefore).then([
      ['EventSuppressed', { reason: 'no-incident' }],
      ['PostSlackEphemeral', { user: ALICE, text: expect.stringContaining(`\`"${A}"\``) }],
    ]);
  });

  test('a record of the same mention keyed by its own message (as ingest wrote them before) still decides as it did: it only says how', () => {
    const old = slackMessage(TS, { text: `${BOT_MENTION} ack ${A}` });
    expect(old.alias).toBe(messageAlias(TS));
    const { sim } = given(rules, incident).when(old).then([
      ['EventSuppressed', { reason: 'command' }],
      ['PostSlackReply', { channel: CHANNEL, threadTs: TS, text: otherIncidentText('ack', '/alertbus') }],
    ]);
    expect(sim.incident(A)).toMatchObject({ status: 'open' });
  });
});

describe('`@alertbus ack <incident id>` acts as `/alertbus ack <incident id>`: on that occurrence, found by ingest', () => {
  /** As ingest writes it once it looked the id up: keyed by the alias found (`target`), or by the message with why not. */
  function byId(text: string, found: { alias: string; incidentId: string } | { problem: string }, init: MessageInit = {}): Envelope<'SlackMessageReceived'> {
    const m = slackMessage(init.ts ?? TS, { text: `${BOT_MENTION} ${text}`, ...init, ...('alias' in found ? { target: found } : { targetProblem: found.problem }) });
    return { ...m, alias: 'alias' in found ? found.alias : m.alias };
  }

  test('which mentions name an incident id to look up, and which records act on it', () => {
    const f = { kind: 'mention' as const, team: TEAM, channel: CHANNEL, ts: TS, text: `${BOT_MENTION} ack ${I1}` };
    expect(namedIncidentId(f)).toEqual({ command: 'ack', incidentId: I1 });
    expect(namedIncidentId({ ...f, kind: 'dm', text: `resolve "${I1}"` })).toEqual({ command: 'resolve', incidentId: I1 });
    expect(namedIncidentId({ ...f, text: `${BOT_MENTION} ack ${A}` })).toBeUndefined();
    expect(namedIncidentId({ ...f, kind: 'message' })).toBeUndefined();
    expect(namedIncidentCommand({ ...f, target: { incidentId: I1, alias: A } })).toEqual({ command: 'ack', alias: A, incidentId: I1 });
    // A target that is not the id named (never written so) names nothing; no target is a record written before.
    expect(namedIncidentCommand({ ...f, target: { incidentId: '0b1e9c3a-1111-8222-9333-444455556666', alias: A } })).toBeUndefined();
    expect(namedIncidentCommand(f)).toBeUndefined();
  });

  test('given an open incident, ack by its id acknowledges it and replies naming the id; a redelivery does nothing again', () => {
    const g = given(rules, incident);
    const ack = byId(`ack ${I1}`, { alias: A, incidentId: I1 });
    const { sim } = g.when(ack).then([
      ['IncidentAcknowledged', { incidentId: I1, by: ALICE, status: 'acknowledged' }],
      ['PostSlackMessage', { purpose: 'reply', text: `Acknowledged by <@${ALICE}>.` }],
      ['UpdateSlackMessage', { incidentId: I1, text: expect.stringContaining('[ACKNOWLEDGED]') }],
      ['AcknowledgePagerAlert', { incidentId: I1 }],
      ['PostSlackReply', { incidentId: I1, channel: CHANNEL, threadTs: TS, text: `Acknowledged: ${incident.title} (\`${I1}\`)` }],
    ]);
    expect(sim.incident(A)).toMatchObject({ status: 'acknowledged', lastInputId: ack.id });
    g.when(ack).then([['EventSuppressed', { reason: 'duplicate', incidentId: I1 }]]);
  });

  test('resolve by id in a DM resolves it', () => {
    given(rules, incident).when(byId(`resolve ${I1}`, { alias: A, incidentId: I1 }, { kind: 'dm', channel: 'D0ALICE', text: `resolve ${I1}` })).then([
      ['IncidentResolved', { incidentId: I1, by: ALICE }],
      ['PostSlackMessage', { purpose: 'reply' }],
      ['UpdateSlackMessage', { text: expect.stringContaining('[RESOLVED]') }],
      ['ClosePagerAlert', { incidentId: I1 }],
      ['PostSlackReply', { channel: 'D0ALICE', threadTs: TS, text: `Resolved: ${incident.title} (\`${I1}\`)` }],
    ]);
  });

  test('the id of an earlier occurrence: the newer one at its alias is not touched, and the writer is told it is over', () => {
    const { sim: before } = given(rules, incident).when(byId(`resolve ${I1}`, { alias: A, incidentId: I1 })).then([
      ['IncidentResolved', { incidentId: I1 }],
      ['PostSlackMessage', { purpose: 'reply' }],
      ['UpdateSlackMessage', {}],
      ['ClosePagerAlert', {}],
      ['PostSlackReply', {}],
    ]);
    const resolved = before.incident(A)!;
    const second = decide(firing(A, { at: HOUR, n: 1 }), resolved, rules).state as AliasState;
    expect(second).toMatchObject({ occurrence: 2, status: 'open' });
    const later = ((T0 + HOUR + MINUTE) / 1000).toFixed(6);
    const { sim } = given(rules, second).when(byId(`ack ${I1}`, { alias: A, incidentId: I1 }, { ts: later, at: HOUR + MINUTE, user: BOB })).then([
      ['EventSuppressed', { reason: 'other-occurrence', incidentId: second.incidentId, inputType: 'SlackMessageReceived' }],
      ['PostSlackEphemeral', { channel: CHANNEL, user: BOB, text: `Incident \`${I1}\` is over: its alert has fired again since, as a new incident (${second.title}).` }],
    ]);
    expect(sim.incident(A)).toMatchObject({ incidentId: second.incidentId, status: 'open' });
  });

  test('an id ingest could not find, or could not look up: nothing happens, the writer alone is told why, and a redelivery is quiet', () => {
    const unknown = byId(`ack ${I1}`, { problem: NO_SUCH_INCIDENT });
    expect(unknown.alias).toBe(messageAlias(TS));
    const g = given(rules, incident);
    g.when(unknown).then([
      ['EventSuppressed', { reason: 'no-incident' }],
      ['PostSlackEphemeral', { channel: CHANNEL, user: ALICE, text: `I could not find incident \`${I1}\`: ${NO_SUCH_INCIDENT}.` }],
    ]);
    g.when(unknown).then([['EventSuppressed', { reason: 'duplicate' }]]);
    given(rules, incident).when(byId(`resolve ${I1}`, { problem: 'the history API answered 503' }, { threadTs: '1740900050.000100' })).then([
      ['EventSuppressed', { reason: 'no-incident' }],
      ['PostSlackEphemeral', { user: ALICE, threadTs: '1740900050.000100', text: expect.stringMatching(/^I could not look up incident `[^`]+` \(the history API answered 503\), so nothing was resolved\./) }],
    ]);
    expect(g.sim.incident(A)).toMatchObject({ status: 'open' });
  });

  test('a record naming an id written before ingest looked them up (no target, keyed by the message) still only says how', () => {
    const old = slackMessage(TS, { text: `${BOT_MENTION} ack ${I1}` });
    const { sim } = given(rules, incident).when(old).then([
      ['EventSuppressed', { reason: 'command' }],
      ['PostSlackReply', { channel: CHANNEL, threadTs: TS, text: otherIncidentText('ack', '/alertbus') }],
    ]);
    expect(sim.incident(A)).toMatchObject({ status: 'open' });
  });
});
