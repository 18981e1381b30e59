import { deriveId, makeEnvelope, type AliasState, type Envelope, type SlackSlashCommandReceived } from '@alertbus/schemas';
import { decide } from '../decider';
import { SilenceBook } from '../core/silences';
import { builtinRules } from '../rules/compile';
import { firing, T0 } from '../test-support/alerts';
import { given } from '../test-support/slack-spec';
import { ALICE, TEAM, buttonClick } from '../test-support/slack';
import * as permissions from './authorize';
import { NO_SUCH_INCIDENT, parseSlash, slashIncidentId, slashKey } from './slash';

const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const A = 'alertmanager:aaaa';
const incident = decide(firing(A), undefined, rules).state as AliasState;
const I1 = incident.incidentId;
const RESPONSE_URL = 'https://hooks.slack.test/commands/T0TEAM/1/abc';

let n = 0;
/** A slash command as ingest writes it: keyed as slashKey says, its id derived from the trigger id. */
function slash(text: string, init: Partial<SlackSlashCommandReceived> & { trigger?: string; at?: number } = {}): Envelope<'SlackSlashCommandReceived'> {
  const { trigger = `trigger-${++n}`, at = 0, ...data } = init;
  const id = deriveId('slack-slash', TEAM, trigger);
  const recordedAt = new Date(T0 + at).toISOString();
  return makeEnvelope({
    id,
    type: 'SlackSlashCommandReceived',
    alias: slashKey(text, TEAM, trigger, data.target?.alias),
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
      responseUrl: RESPONSE_URL,
      triggerId: trigger,
      via: 'http',
      raw: { test: true },
      ...data,
    },
  });
}

const answered = (text: unknown, responseType = 'ephemeral') => ({ responseUrl: RESPONSE_URL, responseType, requester: ALICE, teamId: TEAM, answer: { kind: 'text', text } });

describe('slash command text → subcommand', () => {
  test.each([
    ['', { name: 'help' }, false],
    ['help --public', { name: 'help' }, true],
    ['oncall', { name: 'oncall' }, false],
    ['oncall "Platform Ops" --public', { name: 'oncall', schedule: 'Platform Ops' }, true],
    ['incidents', { name: 'incidents', filter: 'open' }, false],
    ['incidents mine', { name: 'incidents', filter: 'mine' }, false],
    ['ack alertmanager:aaaa', { name: 'ack', target: 'alertmanager:aaaa' }, false],
    ['resolve "generic:disk full" --public', { name: 'resolve', target: 'generic:disk full' }, true],
    // Slack escapes <, > and & in the text; matchers are read as typed, "smart" quotes as plain ones.
    ['silence alertname=“DiskFull” env=~"a&amp;b|c" for 2h -- swapping the disk', { name: 'silence', matchers: ['alertname="DiskFull"', 'env=~"a&b|c"'], duration: '2h', durationMs: 7_200_000, comment: 'swapping the disk' }, false],
    ['silence {alertname="DiskFull", host="a, b"} for 1h30m', { name: 'silence', matchers: ['alertname="DiskFull"', 'host="a, b"'], duration: '1h30m', durationMs: 5_400_000 }, false],
    ['silences', { name: 'silences' }, false],
    ['unsilence abc-123', { name: 'unsilence', silenceId: 'abc-123' }, false],
    ['deploy the thing', { name: 'unknown', word: 'deploy' }, false],
  ])('%j', (text, command, isPublic) => {
    expect(parseSlash(text)).toEqual({ command, public: isPublic });
  });

  test.each([
    ['ack', 'ack', 'name one incident'],
    ['resolve a b', 'resolve', 'name one incident'],
    ['silence alertname="X"', 'silence', 'for &lt;duration&gt;'],
    ['silence alertname="X" for soon', 'silence', 'is not a duration'],
    ['silence alertname="X" for 0s', 'silence', 'is not a duration'],
    ['silence alertname="X" for 31d', 'silence', 'longer than a silence may last (30d, SILENCE_MAX_DURATION)'],
    ['silence disk-full for 1h', 'silence', '`disk-full`'],
    ['silence env!="prod" for 1h', 'silence', 'would silence every alert'],
    // Each matches any value the label holds: every alert that has the label, which is every alert.
    ['silence alertname=~".+" for 30d', 'silence', 'would silence every alert'],
    ['silence alertname!="" env=~".*" for 1h', 'silence', 'would silence every alert'],
    // status is alertbus's own to a silence (every alert it sees is firing), and so is source.
    ['silence status="firing" for 30d', 'silence', 'would silence every alert'],
    ['silence alertname="HighErrorRate" status="500" for 1h', 'silence', '`status="500"`: status is alertbus\'s own: silences see status="firing" there, never an alert\'s label of that name, so this matcher would match no alert'],
    // Single quotes (or Slack's curly ones) would be part of the value: the silence would match nothing.
    ["silence alertname=\"DiskFull\" env='prod' for 1h", 'silence', 'single quotes are part of the value here, so it would match nothing: write `env="prod"`'],
    ['silence alertname=”DiskFull” env=‘prod’ for 1h', 'silence', 'write `env="prod"`'],
    ["silence alertname=~'Disk.*' for 1h", 'silence', 'write `alertname=~"Disk.*"`'],
    ['incidents closed', 'incidents', 'incidents [open|mine]'],
    [`unsilence ${'x'.repeat(201)}`, 'unsilence', 'a silence id is at most 200 characters'],
  ])('%j is refused with what is wrong', (text, subcommand, problem) => {
    const { command } = parseSlash(text);
    expect(command).toMatchObject({ name: 'invalid', subcommand });
    expect((command as { problem: string }).problem).toContain(problem);
  });

  test('an incident id is told from an alias by its shape, and keyed by the alias ingest found for it', () => {
    expect(slashIncidentId(`ack ${I1}`)).toBe(I1);
    expect(slashIncidentId('ack alertmanager:aaaa')).toBeUndefined();
    expect(slashIncidentId(`silence a="${I1}" for 1h`)).toBeUndefined();
    expect(slashKey(`resolve ${I1}`, TEAM, 't3', A)).toBe(A);
    expect(slashKey(`resolve ${I1}`, TEAM, 't3')).toBe(`slack-slash:${TEAM}:t3`);
  });

  test('ack and resolve are keyed by the incident they name; everything else by a key of its own', () => {
    expect(slashKey('ack alertmanager:aaaa --public', TEAM, 't1')).toBe('alertmanager:aaaa');
    expect(slashKey('help', TEAM, 't1')).toBe(`slack-slash:${TEAM}:t1`);
    expect(slashKey('silence a="b" for 1h', TEAM, 't2')).toBe(`slack-slash:${TEAM}:t2`);
  });
});

describe('slash commands in the router', () => {
  test('given nothing, when `help` is asked, then the list is answered privately at the response_url, and a redelivery says nothing', () => {
    const g = given(rules);
    const help = slash('help', { trigger: 'help-1' });
    g.when(help).then([
      ['EventSuppressed', { reason: 'command', inputType: 'SlackSlashCommandReceived' }],
      ['AnswerSlashCommand', answered(expect.stringContaining('`/alertbus oncall [schedule]`'))],
    ]);
    g.when(slash('help', { trigger: 'help-1', at: 1_000 })).then([['EventSuppressed', { reason: 'duplicate' }]]);
  });

  test('`oncall` asks for the rules\' schedule, `oncall NAME --public` for that one in the channel', () => {
    given(rules).when(slash('oncall')).then([
      ['EventSuppressed', { reason: 'command' }],
      ['AnswerSlashCommand', { responseType: 'ephemeral', answer: { kind: 'oncall', schedule: 'ops' } }],
    ]);
    given(rules).when(slash('oncall "Platform Ops" --public')).then([
      ['EventSuppressed', { reason: 'command' }],
      ['AnswerSlashCommand', { responseType: 'in_channel', answer: { kind: 'oncall', schedule: 'Platform Ops' } }],
    ]);
    const none = builtinRules({ defaultChannel: '#alerts' });
    given(none).when(slash('oncall')).then([
      ['EventSuppressed', { reason: 'command' }],
      ['AnswerSlashCommand', answered(expect.stringContaining('`/alertbus oncall &lt;schedule&gt;`'))],
    ]);
  });

  test('`incidents mine` and `silences` are read queries, answered by the slack-sink', () => {
    given(rules).when(slash('incidents mine')).then([
      ['EventSuppressed', { reason: 'command' }],
      ['AnswerSlashCommand', { answer: { kind: 'incidents', filter: 'mine' } }],
    ]);
    given(rules).when(slash('silences --public')).then([
      ['EventSuppressed', { reason: 'command' }],
      ['AnswerSlashCommand', { responseType: 'in_channel', answer: { kind: 'silences' } }],
    ]);
  });

  test('every answer names the channel the command was typed in, where the slack-sink answers when the response_url cannot be reached', () => {
    const where = { channel: 'G0PRIVATE', requester: ALICE, teamId: TEAM, responseUrl: RESPONSE_URL };
    given(rules).when(slash('help', { channel: 'G0PRIVATE' })).then([['EventSuppressed', {}], ['AnswerSlashCommand', { ...where, answer: { kind: 'text' } }]]);
    given(rules).when(slash('oncall --public', { channel: 'G0PRIVATE' })).then([
      ['EventSuppressed', {}],
      ['AnswerSlashCommand', { ...where, responseType: 'in_channel', answer: { kind: 'oncall', schedule: 'ops' } }],
    ]);
    given(rules).when(slash('incidents', { channel: 'G0PRIVATE' })).then([['EventSuppressed', {}], ['AnswerSlashCommand', { ...where, answer: { kind: 'incidents' } }]]);
    given(rules, incident).when(slash(`ack ${A}`, { channel: 'G0PRIVATE' })).then([
      ['IncidentAcknowledged', {}],
      ['PostSlackMessage', {}],
      ['UpdateSlackMessage', {}],
      ['AcknowledgePagerAlert', {}],
      ['AnswerSlashCommand', { ...where, incidentId: I1 }],
    ]);
    // From the input alone: deciding the same command again (a replay) writes the same answer, byte for byte.
    const silences = slash('silences', { channel: 'C0OPS', trigger: 'replayed' });
    const [first, again] = [decide(silences, undefined, rules), decide(silences, undefined, rules)];
    const answerOf = (d: typeof first) => d.events.find((e) => e.type === 'AnswerSlashCommand');
    expect(answerOf(first)?.data).toMatchObject({ channel: 'C0OPS' });
    expect(JSON.stringify(again.events)).toBe(JSON.stringify(first.events));
  });

  test('given an open incident, `ack <alias>` acknowledges it as its button would, and answers at the response_url', () => {
    const g = given(rules, incident);
    const ack = slash(`ack ${A}`, { trigger: 'ack-1' });
    expect(ack.alias).toBe(A);
    const { sim } = g.when(ack).then([
      ['IncidentAcknowledged', { incidentId: I1, by: ALICE, status: 'acknowledged' }],
      ['PostSlackMessage', { purpose: 'reply', text: `Acknowledged by <@${ALICE}>.` }],
      ['UpdateSlackMessage', { incidentId: I1, text: expect.stringContaining('[ACKNOWLEDGED]') }],
      ['AcknowledgePagerAlert', { incidentId: I1 }],
      ['AnswerSlashCommand', { incidentId: I1, ...answered(`Acknowledged: ${incident.title} (\`${A}\`)`) }],
    ]);
    expect(sim.incident(A)).toMatchObject({ status: 'acknowledged', acknowledgedBy: ALICE, lastInputId: ack.id });
    // Slack's retry of the same request: nothing again.
    g.when(slash(`ack ${A}`, { trigger: 'ack-1', at: 500 })).then([['EventSuppressed', { reason: 'duplicate', incidentId: I1 }]]);
    g.when(slash(`resolve ${A} --public`, { at: 1_000 })).then([
      ['IncidentResolved', { incidentId: I1, by: ALICE }],
      ['PostSlackMessage', { purpose: 'reply' }],
      ['UpdateSlackMessage', { text: expect.stringContaining('[RESOLVED]') }],
      ['ClosePagerAlert', { incidentId: I1 }],
      ['AnswerSlashCommand', { responseType: 'in_channel', answer: { kind: 'text', text: `Resolved: ${incident.title} (\`${A}\`)` } }],
    ]);
    g.when(slash(`ack ${A}`, { at: 2_000 })).then([
      ['EventSuppressed', { reason: 'already-resolved', inputType: 'SlackSlashCommandReceived' }],
      ['AnswerSlashCommand', answered(`${incident.title} (\`${A}\`) is already resolved.`)],
    ]);
  });

  test('by incident id (its alias found by ingest): that occurrence is acted on; an earlier one\'s id, or an unknown id, only answered', () => {
    const g = given(rules, incident);
    g.when(slash(`ack ${I1}`, { target: { incidentId: I1, alias: A } })).then([
      ['IncidentAcknowledged', { incidentId: I1, by: ALICE }],
      ['PostSlackMessage', { purpose: 'reply' }],
      ['UpdateSlackMessage', { incidentId: I1 }],
      ['AcknowledgePagerAlert', { incidentId: I1 }],
      ['AnswerSlashCommand', answered(`Acknowledged: ${incident.title} (\`${I1}\`)`)],
    ]);
    const old = deriveId('incident', A, 0);
    g.when(slash(`resolve ${old}`, { target: { incidentId: old, alias: A }, at: 1_000 })).then([
      ['EventSuppressed', { reason: 'other-occurrence', incidentId: I1 }],
      ['AnswerSlashCommand', answered(expect.stringContaining(`Incident \`${old}\` is over`))],
    ]);
    given(rules).when(slash(`resolve ${old}`, { targetProblem: NO_SUCH_INCIDENT })).then([
      ['EventSuppressed', { reason: 'no-incident' }],
      ['AnswerSlashCommand', answered(`I could not find incident \`${old}\`: no incident has that id.`)],
    ]);
  });

  test('by incident id while the history API is down: nothing done, and the answer says how to act without the lookup (not "not found")', () => {
    const problem = 'the history API could not be asked (ECONNREFUSED) <!channel>';
    given(rules, incident).when(slash(`ack ${I1}`, { targetProblem: problem })).then([
      ['EventSuppressed', { reason: 'no-incident' }],
      [
        'AnswerSlashCommand',
        answered(
          `I could not look up incident \`${I1}\` (the history API could not be asked (ECONNREFUSED) &lt;!channel&gt;), so nothing was acknowledged. ` +
            "The buttons on the incident's message work without this lookup, as does `/alertbus ack &lt;alias&gt;` with the alias shown there.",
        ),
      ],
    ]);
  });

  test('an alias nobody knows gets an answer saying so, escaped', () => {
    given(rules).when(slash('resolve <!channel>')).then([
      ['EventSuppressed', { reason: 'no-incident' }],
      ['AnswerSlashCommand', answered(expect.stringContaining('no incident with the alias `&lt;!channel&gt;`'))],
    ]);
  });

  test('`silence … for 1h` writes a SilenceCreated on the silences topic from the command\'s time; `unsilence` expires it', () => {
    const cmd = slash('silence alertname="DiskFull" for 1h -- disk swap', { trigger: 'sil-1' });
    const silenceId = `slack-${cmd.id}`;
    given(rules).when(cmd).then([
      ['EventSuppressed', { reason: 'command' }],
      [
        'SilenceCreated',
        { silenceId, matchers: ['alertname="DiskFull"'], startsAt: cmd.recordedAt, endsAt: new Date(T0 + 3_600_000).toISOString(), createdBy: `slack:${ALICE}`, comment: 'disk swap', kind: 'silence' },
        `silence:${silenceId}`,
      ],
      ['AnswerSlashCommand', answered(expect.stringContaining(`Silence id: \`${silenceId}\``))],
    ]);
    given(rules).when(slash(`unsilence ${silenceId}`, { at: 10_000 })).then([
      ['EventSuppressed', { reason: 'command' }],
      ['SilenceExpired', { silenceId, expiredBy: `slack:${ALICE}`, expiredAt: new Date(T0 + 10_000).toISOString() }, `silence:${silenceId}`],
      ['AnswerSlashCommand', answered(expect.stringContaining(silenceId))],
    ]);
  });

  test('`unsilence` of an id the router does not know, or of a silence already over, ends nothing and says so', () => {
    const types = (d: ReturnType<typeof decide>) => d.events.map((e) => e.type);
    const textOf = (d: ReturnType<typeof decide>) => (d.events.find((e) => e.type === 'AnswerSlashCommand')!.data as { answer: { text: string } }).answer.text;
    const book = new SilenceBook();
    const created = decide(slash('silence alertname="DiskFull" for 1h -- disk swap', { trigger: 'sil-known' }), undefined, rules, { silences: book });
    const createdEvent = created.events.find((e) => e.type === 'SilenceCreated')! as Envelope<'SilenceCreated'>;
    book.apply(createdEvent);
    const silenceId = createdEvent.data.silenceId;

    const typo = decide(slash(`unsilence ${silenceId}x`, { at: 10_000 }), undefined, rules, { silences: book });
    expect(types(typo)).toEqual(['EventSuppressed', 'AnswerSlashCommand']);
    expect(textOf(typo)).toContain(`I know of no silence with the id \`${silenceId}x\`, so nothing was ended`);

    const ends = decide(slash(`unsilence ${silenceId}`, { at: 20_000 }), undefined, rules, { silences: book });
    expect(types(ends)).toEqual(['EventSuppressed', 'SilenceExpired', 'AnswerSlashCommand']);
    book.apply(ends.events.find((e) => e.type === 'SilenceExpired')! as Envelope<'SilenceExpired'>);

    const again = decide(slash(`unsilence ${silenceId}`, { at: 30_000 }), undefined, rules, { silences: book });
    expect(types(again)).toEqual(['EventSuppressed', 'AnswerSlashCommand']);
    expect(textOf(again)).toContain(`Silence \`${silenceId}\` had already ended (${new Date(T0 + 20_000).toISOString()}); nothing was changed.`);
  });

  test('`unsilence` of an id longer than any silence\'s is answered, not dead-lettered for an invalid SilenceExpired', () => {
    given(rules).when(slash(`unsilence ${'x'.repeat(300)}`)).then([
      ['EventSuppressed', { reason: 'command' }],
      ['AnswerSlashCommand', answered(expect.stringContaining('a silence id is at most 200 characters'))],
    ]);
  });

  test('SILENCE_MAX_DURATION (the context\'s silenceMaxMs) bounds a Slack silence as it bounds one made through the history API', () => {
    const types = (d: ReturnType<typeof decide>) => d.events.map((e) => e.type);
    const twoDays = slash('silence alertname="DiskFull" for 2d -- swap');
    const refused = decide(twoDays, undefined, rules, { silenceMaxMs: 12 * 3_600_000 });
    expect(types(refused)).toEqual(['EventSuppressed', 'AnswerSlashCommand']);
    expect((refused.events[1]!.data as { answer: { text: string } }).answer.text).toContain('2d is longer than a silence may last (12h, SILENCE_MAX_DURATION)');
    expect(types(decide(twoDays, undefined, rules))).toContain('SilenceCreated');
    expect(types(decide(slash('silence alertname="DiskFull" for 12h'), undefined, rules, { silenceMaxMs: 12 * 3_600_000 }))).toContain('SilenceCreated');
  });

  test('a wrong or unknown subcommand is answered privately with what is wrong, even with --public', () => {
    given(rules).when(slash('silence alertname="X" for ever --public')).then([
      ['EventSuppressed', { reason: 'command' }],
      ['AnswerSlashCommand', answered(expect.stringContaining('Usage: `/alertbus silence &lt;matchers&gt; for &lt;duration&gt; [-- comment]`'))],
    ]);
    // Errors of ack, resolve and oncall too: a typo in an alias is nobody else's business.
    given(rules).when(slash('ack no-such-alias --public')).then([
      ['EventSuppressed', { reason: 'no-incident' }],
      ['AnswerSlashCommand', { responseType: 'ephemeral', answer: { kind: 'text', text: expect.stringContaining('I know of no incident with the alias `no-such-alias`') } }],
    ]);
    given(rules, incident).when(slash(`resolve ${A} --public`)).then([
      ['IncidentResolved'], ['PostSlackMessage'], ['UpdateSlackMessage'], ['ClosePagerAlert'],
      ['AnswerSlashCommand', { responseType: 'in_channel' }],
    ]);
    given(rules).when(slash('<!here> deploy')).then([
      ['EventSuppressed', { reason: 'command' }],
      ['AnswerSlashCommand', answered(expect.stringMatching(/^I don't know `&lt;!here&gt;`\.\n/))],
    ]);
  });

  describe('when authorize() refuses', () => {
    beforeEach(() => {
      jest.spyOn(permissions, 'authorize').mockImplementation((_r, _a, action) => ({
        allowed: false,
        role: 'viewer',
        needed: action === 'cache-clear' ? 'admin' : 'operator',
        reason: 'Slack users are viewers unless the rules file says otherwise.',
      }));
    });
    afterEach(() => jest.restoreAllMocks());

    test('ack changes nothing, is recorded with who, what and why, and is answered to that user only', () => {
      const { sim } = given(rules, incident).when(slash(`ack ${A} --public`)).then([
        ['EventSuppressed', { reason: 'not-permitted', incidentId: I1, refused: { user: ALICE, action: 'ack', role: 'viewer', needed: 'operator', reason: expect.stringContaining('viewers') } }],
        ['AnswerSlashCommand', answered(expect.stringContaining('You may not ack: it needs the *operator* role, and yours is *viewer*.'))],
      ]);
      expect(sim.incident(A)).toMatchObject({ status: 'open' });
      expect(permissions.authorize).toHaveBeenCalledWith(rules, { userId: ALICE }, 'ack');
    });

    test('silence and unsilence write no silence event', () => {
      given(rules).when(slash('silence alertname="X" for 1h')).then([
        ['EventSuppressed', { reason: 'not-permitted', refused: expect.objectContaining({ action: 'silence' }) }],
        ['AnswerSlashCommand', { responseType: 'ephemeral' }],
      ]);
      given(rules).when(slash('unsilence abc')).then([
        ['EventSuppressed', { reason: 'not-permitted', refused: expect.objectContaining({ action: 'unsilence' }) }],
        ['AnswerSlashCommand', { responseType: 'ephemeral' }],
      ]);
    });

    test('read-only commands need no role', () => {
      given(rules).when(slash('help')).then([['EventSuppressed', { reason: 'command' }], ['AnswerSlashCommand', {}]]);
    });
  });

  test('a click and a slash ack meet the same incident state', () => {
    const g = given(rules, incident, buttonClick(A, I1, 'alertbus_ack'));
    g.when(slash(`ack ${A}`)).then([
      ['EventSuppressed', { reason: 'already-acknowledged', incidentId: I1 }],
      ['AnswerSlashCommand', answered(`${incident.title} (\`${A}\`) is already acknowledged.`)],
    ]);
  });
});
