import { Type, type Static } from '@sinclair/typebox';
import { PagerPriority, Responder } from './common';
import { DURATION_PATTERN } from './duration';
import { IconEmoji, NOTIFICATION_LEVELS, SlackChannelRef, TagName, Username } from './events/notifications';

/** Prometheus-style duration: one or more number+unit pairs, e.g. 4h, 30m, 1h30m, 90s. */
export const RulesDuration = Type.String({
  pattern: DURATION_PATTERN,
  description: 'Duration such as 4h, 30m, 1h30m (units ms, s, m, h, d, w, y).',
});

export const RulesMatcher = Type.String({
  minLength: 1,
  description:
    'Alertmanager matcher: name="value", name!="value", name=~"regex", name!~"regex" (RE2 syntax as in Alertmanager, fully ' +
    'anchored, at most 1000 characters; at most 20 regexes per list), over labels ' +
    'and the pseudo-labels source, severity, status (alerts) and channel, user, text (Slack messages).',
});

/** A channel as a rules file names it: no blank and no whitespace, which no Slack channel name or id holds. */
export const RULES_CHANNEL_PATTERN = '^\\S+$';
const ChannelName = Type.String({ minLength: 1, maxLength: 200, pattern: RULES_CHANNEL_PATTERN, description: 'A Slack channel name (#alerts) or id (C0123).' });

export const RulesSlackAction = Type.Object(
  {
    channel: Type.Optional(Type.String({ ...ChannelName, description: 'Channel of the incident thread.' })),
    enabled: Type.Optional(Type.Boolean({ description: 'false: no Slack messages for these alerts.' })),
    channel_by_severity: Type.Optional(
      Type.Record(Type.String(), ChannelName, {
        description: 'Shorthand: severity → channel, used when no rule of the chain names a channel itself.',
      }),
    ),
    channel_by_tag: Type.Optional(
      Type.Record(Type.String(), ChannelName, {
        description:
          'Shorthand: tag → channel, used when no rule names a channel itself; before channel_by_severity. An alert\'s tags ' +
          'are its pager tags plus the comma-separated values of its `tags` label.',
      }),
    ),
    mention_oncall: Type.Optional(
      Type.String({ minLength: 1, description: 'Mention the on-call of this (Opsgenie / JSM) schedule in the incident thread.' }),
    ),
  },
  { additionalProperties: false },
);
export type RulesSlackAction = Static<typeof RulesSlackAction>;

/** How the incidents gathered into a storm page: one pager alert for the whole storm, or one each as outside a storm. */
const stormPages = (description: string) => Type.Union([Type.Literal('grouped'), Type.Literal('each')], { description });
export const StormPages = stormPages(
  'grouped (the default): the incidents a storm gathers page once, with one pager alert for the storm (alias ' +
  'storm:{channel}:{since}), noted as the storm grows, closed when all of them are resolved. each: every incident ' +
  'pages on its own, as outside a storm.',
);
export type StormPages = Static<typeof StormPages>;

export const RulesPagerAction = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'false: never page for these alerts.' })),
    priority: Type.Optional(PagerPriority),
    priority_by_severity: Type.Optional(Type.Record(Type.String(), PagerPriority)),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 20 })),
    responders: Type.Optional(Type.Array(Responder)),
    note_on_repeat: Type.Optional(
      Type.Boolean({ description: 'Add a note to the pager alert when a repeat is re-notified.' }),
    ),
    storm: Type.Optional(
      stormPages('How these incidents page when storm control gathers them: grouped (one page for the storm) or each. Unset: storm_control.pages.'),
    ),
    alias: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description:
          'Template of the pager alert\'s alias (the pager deduplicates on it): {{ alias }}, {{ source }}, {{ severity }}, ' +
          '{{ labels.NAME }}. Unset: the incident alias.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RulesPagerAction = Static<typeof RulesPagerAction>;

export const RulesOnCallAction = Type.Object(
  {
    schedule: Type.Optional(
      Type.String({ minLength: 1, description: 'Opsgenie schedule whose on-call answers a Slack request in its thread.' }),
    ),
    enabled: Type.Optional(Type.Boolean({ description: 'false: no on-call reply for these Slack requests.' })),
    reply: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description: 'Text of the reply when someone is on call: {{users}} (the mentions), {{schedule}} and {{requester}} are replaced.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Slack mentions and DMs: reply in the message\'s thread with the on-call of the schedule. Unset everywhere: ' +
      'ONCALL_SCHEDULE. Alerts ignore it (see slack.mention_oncall).',
  },
);
export type RulesOnCallAction = Static<typeof RulesOnCallAction>;

export const RulesMention = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  maxItems: 20,
  description:
    'Who the incident\'s Slack root post (and each re-notification) pings: channel (@channel), here (@here), a user ' +
    'group (@handle named under usergroups:, or its id S…), a user (U…, W…). Without it, nothing in a message pings anyone.',
});

/** The fields of one routing rule; `routes` nests rules that inherit these actions and may override them. */
const ruleFields = {
  name: Type.Optional(Type.String({ minLength: 1 })),
  match: Type.Optional(Type.Array(RulesMatcher, { description: 'All must match; empty or absent matches everything.' })),
  slack: Type.Optional(RulesSlackAction),
  pager: Type.Optional(RulesPagerAction),
  repeat_interval: Type.Optional(RulesDuration),
  mention: Type.Optional(RulesMention),
  continue: Type.Optional(Type.Boolean({ description: 'Keep looking at later rules (of the same level) after this one matched.' })),
  drop: Type.Optional(
    Type.Boolean({ description: 'Suppress matching firing alerts and Slack messages entirely; a nested rule may say false.' }),
  ),
  oncall: Type.Optional(RulesOnCallAction),
  allow_bots: Type.Optional(
    Type.Boolean({ description: 'Slack messages written by other apps (bot_id) are dropped unless a matching rule says true.' }),
  ),
};

export const RoutingRule = Type.Recursive(
  (This) =>
    Type.Object(
      {
        ...ruleFields,
        routes: Type.Optional(
          Type.Array(This, {
            description: 'Nested rules, tried in order when this one matches; they inherit its actions. None matching: this rule applies.',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  { $id: 'AlertbusRoutingRule' },
);
export type RoutingRule = Static<typeof RoutingRule>;

/** A duration, or 0 for none: the setting that turns a suppression off says so with 0, as Alertmanager's durations do. */
export const RulesLateCopyWindow = Type.Union([RulesDuration, Type.Literal(0), Type.Literal('0')], {
  description:
    "How long after its sender's resolve a firing of the occurrence it ended (startsAt no later than the resolve's endsAt: " +
    'the other Alertmanager of an HA pair, a retried webhook) is taken for a late copy and opens nothing (default 5m, ' +
    "Alertmanager's group_interval; 0: never). Later than that it opens a new incident.",
});

export const RulesDefaults = Type.Object(
  {
    slack: Type.Optional(RulesSlackAction),
    pager: Type.Optional(RulesPagerAction),
    repeat_interval: Type.Optional(RulesDuration),
    oncall: Type.Optional(RulesOnCallAction),
    late_copy_window: Type.Optional(RulesLateCopyWindow),
  },
  { additionalProperties: false },
);
export type RulesDefaults = Static<typeof RulesDefaults>;

export const InhibitRule = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    source_match: Type.Array(RulesMatcher, { minItems: 1, description: 'An open incident matching all of these inhibits…' }),
    target_match: Type.Array(RulesMatcher, { minItems: 1, description: '…firing alerts matching all of these…' }),
    equal: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: '…that have the same value for each of these labels.' }),
    ),
  },
  { additionalProperties: false },
);
export type InhibitRule = Static<typeof InhibitRule>;


const StormLimits = {
  threshold: Type.Integer({ minimum: 1, description: 'More new incidents than this within the window starts a storm (default 30).' }),
  window: RulesDuration,
};

export const StormControl = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'false: no storm control at all (it is on unless a file says so).' })),
    threshold: Type.Optional(StormLimits.threshold),
    window: Type.Optional(Type.String({ pattern: DURATION_PATTERN, description: 'The window new incidents are counted in (default 1m).' })),
    pages: Type.Optional(StormPages),
    channels: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            threshold: Type.Optional(StormLimits.threshold),
            window: Type.Optional(StormLimits.window),
            pages: Type.Optional(StormPages),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        { description: 'Per-channel overrides; enabled: false exempts a channel.' },
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Per Slack channel: above `threshold` new incidents within `window`, further ones are gathered into one summary ' +
      'message, updated in place (on every change while it has at most 100 incidents; beyond that at most once a ' +
      'second of event time and every 50 incidents, and when its last open incident resolves), ' +
      'until it calms down, and page once for the storm. On by default (30 in 1m); ' +
      '`enabled: false` turns it off.',
  },
);
export type StormControl = Static<typeof StormControl>;

/** One entry of the rules file's `tags:` map. */
export const NotificationTagSpec = Type.Object(
  {
    channel: Type.String({ ...SlackChannelRef, pattern: RULES_CHANNEL_PATTERN }),
    username: Type.Optional(Username),
    icon_emoji: Type.Optional(IconEmoji),
    level_channels: Type.Optional(
      Type.Object(
        Object.fromEntries(NOTIFICATION_LEVELS.map((l) => [l, Type.Optional(Type.String({ ...SlackChannelRef, pattern: RULES_CHANNEL_PATTERN }))])),
        { additionalProperties: false, description: 'Level → channel, over `channel` for notifications of that level.' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type NotificationTagSpec = Static<typeof NotificationTagSpec>;

export const NotificationTags = Type.Record(TagName, NotificationTagSpec, {
  description: 'Notification tag → where its notifications go (POST /notify {tag}, alertbus notify -t TAG).',
});

export const RulesRole = Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')], {
  description: 'viewer < operator < admin, as the history API\'s tokens. ack, resolve, silence need operator; cache clear needs admin.',
});

export const RulesPermissions = Type.Object(
  {
    default: Type.Optional(RulesRole),
    users: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), RulesRole, {
        description: 'Slack user id → role; over what their groups give (so one person can be raised or lowered).',
      }),
    ),
    groups: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 100 }), RulesRole, {
        description: 'Slack user-group handle (with or without @) → role; in several groups, the highest role wins.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Who may act from Slack. Absent: everyone may do everything (the open behaviour of before). Present: a user\'s role is ' +
      'their users: entry, else the highest of their groups:, else default (viewer when unset).',
  },
);
export type RulesPermissions = Static<typeof RulesPermissions>;

export const RulesCommandWebhook = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', maxLength: 2000, description: 'Where the signed JSON request is POSTed.' }),
    timeout: Type.Optional(RulesDuration),
  },
  { additionalProperties: false },
);

export const RulesCommandHandler = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'What `help` says about it (else its pattern).' })),
    pattern: Type.String({
      minLength: 1,
      maxLength: 1000,
      description:
        'RE2 regex over the text after the mention (leading mentions removed, whitespace collapsed), fully anchored, case-insensitive; ' +
        'named groups (?P<name>…) fill the reply template.',
    }),
    reply: Type.Optional(
      Type.String({ minLength: 1, maxLength: 3000, description: 'Answer in the thread; {{name}} is a named group (escaped), {{user}} a mention of who asked.' }),
    ),
    webhook: Type.Optional(RulesCommandWebhook),
    command: Type.Optional(
      Type.Object(
        { name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' }) },
        { additionalProperties: false, description: 'Write a CustomCommandRequested (commands.custom.v1) for other systems.' },
      ),
    ),
    role: Type.Optional(RulesRole),
  },
  { additionalProperties: false },
);
export type RulesCommandHandler = Static<typeof RulesCommandHandler>;

export const RulesCommands = Type.Object(
  {
    default: Type.Optional(
      Type.Union([Type.Literal('oncall'), Type.Literal('help'), Type.Literal('ignore')], {
        description:
          'A message to the app that no command matches: oncall (a request for help, as before; the default), help (answer with ' +
          'the command list), ignore (say nothing).',
      }),
    ),
    handlers: Type.Optional(
      Type.Array(RulesCommandHandler, {
        maxItems: 100,
        description: 'Tried in order before the built-in commands; the first whose pattern matches wins.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type RulesCommands = Static<typeof RulesCommands>;

/** The routing rules file (ROUTING_RULES), as YAML: defaults, ordered (nested) rules, inhibitions, storm control, user groups. */
export const RulesFile = Type.Object(
  {
    defaults: Type.Optional(RulesDefaults),
    rules: Type.Optional(Type.Array(RoutingRule)),
    inhibit: Type.Optional(Type.Array(InhibitRule)),
    storm_control: Type.Optional(StormControl),
    usergroups: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
        description: 'Slack user group handle (without @) → its id (S…), so rules can say mention: ["@handle"].',
      }),
    ),
    tags: Type.Optional(NotificationTags),
    permissions: Type.Optional(RulesPermissions),
    commands: Type.Optional(RulesCommands),
  },
  { additionalProperties: false, $id: 'AlertbusRulesFile', title: 'alertbus routing rules' },
);
export type RulesFile = Static<typeof RulesFile>;
