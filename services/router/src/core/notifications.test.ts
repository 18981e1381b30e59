import { notificationRequested, validateEnvelope, type AnyEnvelope, type Envelope, type NotificationRequested } from '@alertbus/schemas';
import { compileRules } from '../rules/compile';
import type { CompiledRules } from '../rules/types';
import { decide } from './decider';
import { LEVEL_COLOURS, renderNotification } from './notifications';

const RULES = `
tags:
  deploys: { channel: "#deploys", username: "deploy-bot", icon_emoji: ":rocket:" }
  batch: { channel: "#batch", level_channels: { crit: "#batch-crit" } }
`;

function rulesOf(yaml: string): CompiledRules {
  const r = compileRules(yaml, 'rules.yaml', { defaultChannel: '#alerts' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
}
const rules = rulesOf(RULES);

let n = 0;
function notification(data: Partial<Omit<NotificationRequested, 'notificationId'>> & { text: string }): Envelope<'NotificationRequested'> {
  n += 1;
  return notificationRequested({ kind: 'tag', level: 'info', requestId: `req-${n}`, ...data }, new Date(Date.UTC(2026, 0, 1, 12, 0, n)).toISOString());
}

const typesOf = (events: AnyEnvelope[]) => events.map((e) => e.type);
const command = (events: AnyEnvelope[]) => events.find((e) => e.type === 'PostNotification') as Envelope<'PostNotification'> | undefined;
const routed = (events: AnyEnvelope[]) => events.find((e) => e.type === 'NotificationRouted') as Envelope<'NotificationRouted'>;

describe('a notification to a tag', () => {
  it('is posted to the tag\'s channel with its username and icon, and is never an incident or a page', () => {
    const input = notification({ tag: 'deploys', text: 'v1.2.3 is live', title: 'Deploy' });
    const { events, state } = decide(input, undefined, rules);
    expect(typesOf(events)).toEqual(['PostNotification', 'NotificationRouted']);
    events.forEach((e) => expect(validateEnvelope(e).ok).toBe(true));
    expect(command(events)!.data).toMatchObject({ channel: '#deploys', username: 'deploy-bot', iconEmoji: ':rocket:', notificationId: input.data.notificationId });
    expect(routed(events).data).toMatchObject({ reason: 'first-notification', channel: '#deploys', commandId: command(events)!.id, rule: { path: 'tags.deploys' } });
    expect(state).toBeUndefined();
  });

  it('goes to the level\'s channel when the tag names one, else to the tag\'s channel', () => {
    expect(command(decide(notification({ tag: 'batch', level: 'crit', text: 'x' }), undefined, rules).events)!.data.channel).toBe('#batch-crit');
    expect(command(decide(notification({ tag: 'batch', level: 'warn', text: 'x' }), undefined, rules).events)!.data.channel).toBe('#batch');
  });

  it('decides the same way every time (deterministic command id)', () => {
    const input = notification({ tag: 'deploys', text: 'same' });
    expect(decide(input, undefined, rules).events).toEqual(decide(input, undefined, rules).events);
  });

  it('is not deduplicated against an identical one without a dedupKey: both are posted', () => {
    const a = notification({ tag: 'deploys', text: 'identical' });
    const b = notification({ tag: 'deploys', text: 'identical' });
    expect(a.alias).not.toBe(b.alias);
    const first = decide(a, undefined, rules);
    const second = decide(b, first.state, rules);
    expect(command(first.events)).toBeDefined();
    expect(command(second.events)).toBeDefined();
    expect(command(first.events)!.id).not.toBe(command(second.events)!.id);
  });

  it('with the same tag and dedupKey as one posted before is recorded as a duplicate and not posted', () => {
    const a = notification({ tag: 'deploys', text: 'nightly', dedupKey: 'nightly-2026-01-01' });
    const b = notification({ tag: 'deploys', text: 'nightly again', dedupKey: 'nightly-2026-01-01' });
    expect(a.alias).toBe('notify:deploys:nightly-2026-01-01');
    expect(b.alias).toBe(a.alias);
    const first = decide(a, undefined, rules);
    expect(first.state).toMatchObject({ kind: 'notification', key: a.alias, inputId: a.id });
    const second = decide(b, first.state, rules);
    expect(typesOf(second.events)).toEqual(['NotificationRouted']);
    expect(routed(second.events).data).toMatchObject({ reason: 'duplicate', duplicateOf: a.id });
  });

  it('whose tag the router does not know (rules reloaded since ingest accepted it) still reaches the default channel', () => {
    const { events } = decide(notification({ tag: 'gone', text: 'hello' }), undefined, rules);
    expect(command(events)!.data.channel).toBe('#alerts');
    expect(routed(events).data.reason).toBe('unknown-tag');
  });
});

describe('a direct notification', () => {
  it('is posted as the sender built it', () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*built by the caller*' } }];
    const { events } = decide(
      notification({ kind: 'direct', channel: '#ops', text: 'fallback', blocks, username: 'ci', iconEmoji: ':robot_face:' }),
      undefined,
      rules,
    );
    expect(command(events)!.data).toMatchObject({ channel: '#ops', text: 'fallback', blocks, username: 'ci', iconEmoji: ':robot_face:' });
    expect(routed(events).data.reason).toBe('direct');
  });
});

describe('renderNotification', () => {
  it('colours the message by level', () => {
    for (const level of ['info', 'good', 'warn', 'crit'] as const) {
      const r = renderNotification({ level, text: 'x' });
      expect((r.attachments[0] as { color: string }).color).toBe(LEVEL_COLOURS[level]);
    }
    expect(new Set(Object.values(LEVEL_COLOURS)).size).toBe(4);
  });

  it('escapes the sender\'s text and title so it can never ping anyone or become a link', () => {
    const r = renderNotification({ level: 'warn', title: '<!here> title', text: 'hey <!channel> <@U123> <https://x|y> & more' });
    const a = r.attachments[0] as { text: string; title: string; fallback: string };
    for (const s of [a.text, a.title, a.fallback]) {
      expect(s).not.toMatch(/<[!@#]|<https?:/);
    }
    expect(a.text).toBe('hey &lt;!channel&gt; &lt;@U123&gt; &lt;https://x|y&gt; &amp; more');
  });
});

describe('rules file tags', () => {
  it('are validated: a tag without a channel or with an unknown level is rejected with its line', () => {
    const r = compileRules('tags:\n  deploys: { username: "x" }\n  batch: { channel: "#b", level_channels: { fatal: "#f" } }\n', 'bad.yaml', {
      defaultChannel: '#alerts',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(/bad\.yaml:2:.*tags\.deploys/);
      expect(r.message).toMatch(/bad\.yaml:3:.*fatal/);
    }
  });

  it('oncall.reply becomes the on-call reply template; an unknown placeholder is rejected', () => {
    const ok = rulesOf('defaults:\n  oncall: { schedule: ops, reply: "Paging {{ users }} for {{schedule}}" }\n');
    expect(ok.defaults.oncall.replyTemplate).toBe('Paging {mentions} for {schedule}');
    const bad = compileRules('rules:\n  - oncall: { reply: "hi {{who}}" }\n', 'r.yaml', { defaultChannel: '#alerts' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/r\.yaml:2:.*unknown placeholder \{\{who\}\}/);
  });
});
