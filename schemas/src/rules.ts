import { Type, type Static } from '@sinclair/typebox';
import { PagerPriority, Responder } from './common';

/** Prometheus-style duration: one or more number+unit pairs, e.g. 4h, 30m, 1h30m, 90s. */
export const RulesDuration = Type.String({
  pattern: '^([0-9]+(ms|s|m|h|d|w|y))+$',
  description: 'Duration such as 4h, 30m, 1h30m (units ms, s, m, h, d, w, y).',
});

export const RulesMatcher = Type.String({
  minLength: 1,
  description: 'Alertmanager matcher: name="value", name!="value", name=~"regex", name!~"regex" (regexes fully anchored).',
});

export const RulesSlackAction = Type.Object(
  {
    channel: Type.Optional(Type.String({ minLength: 1, description: 'Channel of the incident thread.' })),
    enabled: Type.Optional(Type.Boolean({ description: 'false: no Slack messages for these alerts.' })),
  },
  { additionalProperties: false },
);
export type RulesSlackAction = Static<typeof RulesSlackAction>;

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
  },
  { additionalProperties: false },
);
export type RulesPagerAction = Static<typeof RulesPagerAction>;

export const RoutingRule = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    match: Type.Optional(Type.Array(RulesMatcher, { description: 'All must match; empty or absent matches everything.' })),
    slack: Type.Optional(RulesSlackAction),
    pager: Type.Optional(RulesPagerAction),
    repeat_interval: Type.Optional(RulesDuration),
    continue: Type.Optional(Type.Boolean({ description: 'Keep looking at later rules after this one matched.' })),
    drop: Type.Optional(Type.Boolean({ description: 'Suppress matching firing alerts entirely.' })),
  },
  { additionalProperties: false },
);
export type RoutingRule = Static<typeof RoutingRule>;

export const RulesDefaults = Type.Object(
  {
    slack: Type.Optional(RulesSlackAction),
    pager: Type.Optional(RulesPagerAction),
    repeat_interval: Type.Optional(RulesDuration),
  },
  { additionalProperties: false },
);
export type RulesDefaults = Static<typeof RulesDefaults>;

/** The routing rules file (ROUTING_RULES), as YAML: defaults, then ordered rules. */
export const RulesFile = Type.Object(
  {
    defaults: Type.Optional(RulesDefaults),
    rules: Type.Optional(Type.Array(RoutingRule)),
  },
  { additionalProperties: false },
);
export type RulesFile = Static<typeof RulesFile>;
