import { Type, type Static } from '@sinclair/typebox';

/**
 * A map key that is any string. TypeBox's default record key pattern `^(.*)$` does not match keys holding a
 * newline or U+2028 (`.` stops at line terminators), and a key it does not match is not checked at all.
 */
export const AnyKey = Type.String({ pattern: '^[\\s\\S]*$' });

export const Labels = Type.Record(AnyKey, Type.String(), {
  description: 'Label name → value, as sent by the monitoring source.',
});
export type Labels = Static<typeof Labels>;

export const AlertValues = Type.Record(AnyKey, Type.Union([Type.Number(), Type.Null()]), {
  description: "The alert's measured values (Grafana's `values`: query or expression refId → number, null when it had none), in the order sent.",
});
export type AlertValues = Static<typeof AlertValues>;

/** AlertValues described for where it is kept (a spread of the schema would carry TypeBox's symbols into declarations). */
export function alertValuesSchema(description: string) {
  return Type.Record(AnyKey, Type.Union([Type.Number(), Type.Null()]), { description });
}

export const Link = Type.Object(
  { title: Type.String(), url: Type.String() },
  { additionalProperties: false },
);
export type Link = Static<typeof Link>;

export const AlertSource = Type.Union(
  [Type.Literal('alertmanager'), Type.Literal('grafana'), Type.Literal('generic')],
  { description: 'Which webhook the alert came through.' },
);
export type AlertSource = Static<typeof AlertSource>;

export const AlertStatus = Type.Union([Type.Literal('firing'), Type.Literal('resolved')]);
export type AlertStatus = Static<typeof AlertStatus>;

/** Severity is free text at the source; the router normalises it for priorities. */
export const Severity = Type.String({ minLength: 1, maxLength: 64 });

export const PagerPriority = Type.Union([
  Type.Literal('P1'),
  Type.Literal('P2'),
  Type.Literal('P3'),
  Type.Literal('P4'),
  Type.Literal('P5'),
]);
export type PagerPriority = Static<typeof PagerPriority>;

export const Responder = Type.Object(
  {
    type: Type.Union([
      Type.Literal('team'),
      Type.Literal('user'),
      Type.Literal('escalation'),
      Type.Literal('schedule'),
    ]),
    name: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Responder = Static<typeof Responder>;

/** Which rule decided, and which version of the rules file it was in: the answer to "why?". */
export const RuleRef = Type.Object(
  {
    path: Type.String({ description: 'Path of the matched rule, e.g. "default" or "rules[2].routes[0]".' }),
    name: Type.Optional(Type.String()),
    rulesVersion: Type.String({ description: 'sha256 of the rules file (or of the built-in defaults).' }),
  },
  { additionalProperties: false },
);
export type RuleRef = Static<typeof RuleRef>;

/** Closed set of reasons a decision was taken; every incident event carries one. */
export const DecisionReason = Type.Union([
  Type.Literal('first-notification'),
  Type.Literal('duplicate'),
  Type.Literal('repeat-interval-elapsed'),
  Type.Literal('updated'),
  Type.Literal('resolved'),
  Type.Literal('reopened'),
  Type.Literal('acknowledged'),
  // The pager's UnAcknowledge of an acknowledged incident: open again.
  Type.Literal('unacknowledged'),
  Type.Literal('resolved-without-open-incident'),
  Type.Literal('already-resolved'),
  // A firing of an occurrence its sender already resolved, delivered late (the other Alertmanager of a pair, a retried webhook).
  Type.Literal('occurrence-already-resolved'),
  Type.Literal('dropped-by-rule'),
  Type.Literal('silenced'),
  Type.Literal('inhibited'),
  Type.Literal('storm-control'),
  // Slack inputs (router: packages/routing/src/slack).
  Type.Literal('command'),
  Type.Literal('not-addressed'),
  Type.Literal('bot-message'),
  Type.Literal('unchanged'),
  Type.Literal('no-incident'),
  Type.Literal('already-acknowledged'),
  // The pager's UnAcknowledge of an incident that is open (never acknowledged, or already unacknowledged).
  Type.Literal('not-acknowledged'),
  Type.Literal('other-occurrence'),
  Type.Literal('unknown-action'),
  // The rules file's `permissions:` refused the actor the action (who and why in EventSuppressed.refused).
  Type.Literal('not-permitted'),
  // The pager's report of an action alertbus made itself on a pager alert several incidents share (a templated pager
  // alias): the action was for one of them, which already shows it, so it is sent on to none.
  Type.Literal('own-action'),
  // A message to the app that no command matched, answered (or ignored) as `commands.default` says instead of paging.
  Type.Literal('not-understood'),
]);
export type DecisionReason = Static<typeof DecisionReason>;
