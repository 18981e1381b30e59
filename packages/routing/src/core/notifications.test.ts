import { deriveId, notificationRequested, validateEnvelope, type AnyEnvelope, type Envelope, type NotificationRequested } from '@alertbus/schemas';
import { specFor } from '@alertbus/spec';
import { compileRules } from '../rules/compile';
import type { CompiledRules } from '../rules/types';
import type { RouterState } from '../state';
import { decide, type Decision } from '../decider';
import { LEVEL_COLOURS, renderNotification, type NotificationInput } from './notifications';

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
function notification(data: Partial<Omit<NotificationRequested, 'notificationId'>> & { text: string }): NotificationInput {
  n += 1;
  return notificationRequested({ kind: 'tag', level: 'info', requestId: `req-${n}`, ...data }, new Date(Date.UTC(2026, 0, 1, 12, 0, n)).toISOString());
}

type Expected = [type: AnyEnvelope['type'], data?: Record<string, unknown>];

/**
 * The decider over one notification key: given the notifications decided under it before, when one arrives,
 * then these outputs. Every output fits its schema, derives from the input and stays under its key; none is
 * an incident event or a page.
 */
const spec = specFor<NotificationInput, RouterState | undefined, NotificationInput, Decision, Expected[]>(
  {
    decide: (input, state) => decide(input, state, rules),
    evolve: (state, earlier) => decide(earlier, state, rules).state,
    initialState: () => undefined,
  },
  {
    check: (decision, expected) => {
      expect(decision.events.map((e) => e.type)).toEqual(expected.map(([t]) => t));
      expected.forEach(([, data], i) => {
        if (data) expect(decision.events[i]!.data).toMatchObject(data);
      });
    },
    always: (decision, { input }) => {
      decision.events.forEach((e, i) => {
        const v = validateEnvelope(e);
        if (!v.ok) throw new Error(`${e.type} is not valid: ${v.error}`);
        expect(e).toMatchObject({ id: deriveId(input.id, e.type, i), alias: input.alias, source: 'router', causationId: input.id, recordedAt: input.recordedAt });
        expect(['PostNotification', 'NotificationRouted']).toContain(e.type);
      });
    },
  },
);

const commandOf = (d: Decision) => d.events.find((e) => e.type === 'PostNotification') as Envelope<'PostNotification'>;

describe('a notification to a tag', () => {
  it('is posted to the tag\'s channel with its username and icon, and is never an incident or a page', () => {
    const input = notification({ tag: 'deploys', text: 'v1.2.3 is live', title: 'Deploy' });
    const decision = spec
      .given()
      .when(input)
      .then([
        ['PostNotification', { channel: '#deploys', username: 'deploy-bot', iconEmoji: ':rocket:', notificationId: input.data.notificationId }],
        ['NotificationRouted', { reason: 'first-notification', channel: '#deploys', rule: { path: 'tags.deploys' } }],
      ]);
    expect(decision.events[1]!.data).toMatchObject({ commandId: decision.events[0]!.id });
    expect(decision.state).toBeUndefined();
  });

  it('goes to the level\'s channel when the tag names one, else to the tag\'s channel', () => {
    spec.given().when(notification({ tag: 'batch', level: 'crit', text: 'x' })).then([['PostNotification', { channel: '#batch-crit' }], ['NotificationRouted']]);
    spec.given().when(notification({ tag: 'batch', level: 'warn', text: 'x' })).then([['PostNotification', { channel: '#batch' }], ['NotificationRouted']]);
  });

  it('decides the same way every time (deterministic command id)', () => {
    const input = notification({ tag: 'deploys', text: 'same' });
    expect(spec.given().when(input).then([['PostNotification'], ['NotificationRouted']]).events).toEqual(decide(input, undefined, rules).events);
  });

  it('is not deduplicated against an identical one without a dedupKey: both are posted', () => {
    const a = notification({ tag: 'deploys', text: 'identical' });
    const b = notification({ tag: 'deploys', text: 'identical' });
    expect(a.alias).not.toBe(b.alias);
    const first = spec.given().when(a).then([['PostNotification'], ['NotificationRouted', { reason: 'first-notification' }]]);
    // Even decided under the same key, a notification without a dedupKey leaves nothing behind to be a duplicate of.
    const second = spec.given(a).when(b).then([['PostNotification'], ['NotificationRouted', { reason: 'first-notification' }]]);
    expect(commandOf(first).id).not.toBe(commandOf(second).id);
  });

  it('with the same tag and dedupKey as one posted before is recorded as a duplicate and not posted', () => {
    const a = notification({ tag: 'deploys', text: 'nightly', dedupKey: 'nightly-2026-01-01' });
    const b = notification({ tag: 'deploys', text: 'nightly again', dedupKey: 'nightly-2026-01-01' });
    expect(a.alias).toBe('notify:deploys:nightly-2026-01-01');
    expect(b.alias).toBe(a.alias);
    const first = spec.given().when(a).then([['PostNotification'], ['NotificationRouted', { reason: 'first-notification' }]]);
    expect(first.state).toMatchObject({ kind: 'notification', key: a.alias, inputId: a.id });
    spec.given(a).when(b).then([['NotificationRouted', { reason: 'duplicate', duplicateOf: a.id }]]);
  });

  it('whose tag the router does not know (rules reloaded since ingest accepted it) still reaches the default channel', () => {
    spec
      .given()
      .when(notification({ tag: 'gone', text: 'hello' }))
      .then([['PostNotification', { channel: '#alerts' }], ['NotificationRouted', { reason: 'unknown-tag' }]]);
  });
});

describe('a direct notification', () => {
  it('is posted as the sender built it', () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*built by the caller*' } }];
    spec
      .given()
      .when(notification({ kind: 'direct', channel: '#ops', text: 'fallback', blocks, username: 'ci', iconEmoji: ':robot_face:' }))
      .then([
        ['PostNotification', { channel: '#ops', text: 'fallback', blocks, username: 'ci', iconEmoji: ':robot_face:' }],
        ['NotificationRouted', { reason: 'direct' }],
      ]);
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
