/**
 * What the router answers in Slack is mrkdwn, where `<word>` is a link: a placeholder such as `<alias>` written raw
 * shows as a link to nowhere instead of the word. The only `<…>` sequences meant are mentions of Slack users and links.
 */
import { deriveId, makeEnvelope, type AnyEnvelope, type Envelope, type SlackSlashCommandReceived } from '@alertbus/schemas';
import { parseMarkup } from '@alertbus/stand-ins';
import { decide } from '../decider';
import { builtinRules } from '../rules/compile';
import { T0 } from '../test-support/alerts';
import { ALICE, BOT_MENTION, TEAM, slackMessage } from '../test-support/slack';
import { helpText } from './commands';
import { slashHelpText } from './slash';
import { NO_SCHEDULE_TEXT, otherIncidentText, stormThreadText } from './texts';

const noSchedule = builtinRules({ defaultChannel: '#alerts' });

let n = 0;
function slash(text: string, command = '/alertbus'): Envelope<'SlackSlashCommandReceived'> {
  const trigger = `markup-${++n}`;
  const id = deriveId('slack-slash', TEAM, trigger);
  const recordedAt = new Date(T0).toISOString();
  const data: SlackSlashCommandReceived = {
    command,
    text,
    team: TEAM,
    channel: 'C0OPS',
    user: ALICE,
    responseUrl: 'https://hooks.slack.test/commands/T0TEAM/1/abc',
    triggerId: trigger,
    via: 'http',
    raw: { test: true },
  };
  return makeEnvelope({ id, type: 'SlackSlashCommandReceived', alias: `slack-slash:${TEAM}:${trigger}`, occurredAt: recordedAt, recordedAt, source: 'ingest/slack-commands', correlationId: id, data });
}

/** Every mrkdwn text the decision sends to Slack: slash answers and thread replies. */
function slackTexts(events: AnyEnvelope[]): string[] {
  return events.flatMap((e) => {
    const d = e.data as { text?: unknown; answer?: { kind?: string; text?: unknown } };
    if (e.type === 'AnswerSlashCommand' && typeof d.answer?.text === 'string') return [d.answer.text];
    if ((e.type === 'PostSlackReply' || e.type === 'PostSlackMessage') && typeof d.text === 'string') return [d.text];
    return [];
  });
}

/** The `<…>` sequences Slack would read as something else than the text written: all but user mentions and web links. */
function stray(text: string): string[] {
  return parseMarkup(text)
    .filter((t) => !(t.kind === 'user' && /^[UW][A-Z0-9]{2,}$/.test(t.id)) && !(t.kind === 'link' && /^https:\/\//.test(t.url)))
    .map((t) => t.raw);
}

describe('placeholders in what the router says in Slack are text, not links', () => {
  test.each([
    ['oncall'],
    ['ack'],
    ['resolve a b'],
    ['unsilence'],
    ['silence alertname="X"'],
    ['silence alertname="X" for ever'],
    ['incidents closed'],
    ['silences now'],
    ['help'],
    ['deploy'],
    ['ack no-such-alias'],
  ])('the answer to `/alertbus %s`', (text) => {
    const texts = slackTexts(decide(slash(text), undefined, noSchedule).events);
    expect(texts).not.toEqual([]);
    for (const t of texts) expect({ text: t, stray: stray(t) }).toEqual({ text: t, stray: [] });
  });

  test.each([
    ['oncall'],
    ['ack alertmanager:aaaa'],
    ['resolve alertmanager:aaaa'],
    ['help'],
  ])('the answer to `@alertbus %s`', (text) => {
    const texts = slackTexts(decide(slackMessage('1700000000.000100', { text: `${BOT_MENTION} ${text}` }), undefined, noSchedule).events);
    expect(texts).not.toEqual([]);
    for (const t of texts) expect({ text: t, stray: stray(t) }).toEqual({ text: t, stray: [] });
  });

  test.each([
    ['no schedule', NO_SCHEDULE_TEXT],
    ['ack outside its thread', otherIncidentText('ack')],
    ['resolve outside its thread, with SLACK_COMMAND', otherIncidentText('resolve', '/incident')],
    ["ack in a storm summary's thread", stormThreadText()],
    ["ack in a storm summary's thread, with SLACK_COMMAND", stormThreadText('/incident')],
    ['slash help', slashHelpText('/alertbus')],
    ['mention help', helpText('ops')],
  ])('%s', (_name, text) => {
    expect(stray(text)).toEqual([]);
  });

  test('the placeholder still reads as written', () => {
    expect(stormThreadText()).toContain('`/alertbus ack &lt;alias&gt;`');
    expect(slackTexts(decide(slash('unsilence'), undefined, noSchedule).events)[0]).toMatch(/^name one silence: `unsilence &lt;id&gt;`\n/);
  });
});
