import type { PagerPriority, Responder, RuleRef, SlackMessageReceived } from '@alertbus/schemas';
import { matchingRules, ruleRef } from '../rules/route';
import type { CompiledRules, RoutableSlackMessage } from '../rules/types';

/** What the rules say about one Slack message. */
export interface SlackRoute {
  readonly rule: RuleRef;
  readonly drop: boolean;
  /** Other apps' messages pass only when a rule of the chain says `allow_bots: true`. */
  readonly allowBots: boolean;
  /** Schedule whose on-call answers a request in its thread; absent when none is configured or the rule turned it off. */
  readonly oncall?: string;
  /** The schedule the rules name (even with the reply turned off): what `oncall` without a name asks for. */
  readonly schedule?: string;
  /** `oncall: { enabled: false }`: the rule wants no on-call reply (as opposed to none being configured). */
  readonly oncallDisabled: boolean;
  /** Only when a rule of the chain has its own `pager` section: the defaults never page for Slack messages. */
  readonly pager?: { readonly priority: PagerPriority; readonly tags: readonly string[]; readonly responders: readonly Responder[] };
}

/**
 * The message as rules see it: pseudo-labels channel, user (the bot id for an app without a user), text
 * (without the leading mention of the app), source "slack", plus kind, channel_type, team and bot_id.
 */
export function routableMessage(m: SlackMessageReceived, text: string, alias: string): RoutableSlackMessage {
  return {
    kind: 'slack-message',
    channel: m.channel,
    user: m.user ?? m.botId ?? '',
    text,
    labels: {
      kind: m.kind,
      channel_type: m.channelType,
      team: m.team,
      ...(m.botId ? { bot_id: m.botId } : {}),
    },
    alias,
  };
}

/**
 * Ordered rules as for alerts (first match, nested rules, `continue`), but only what a rule of the chain
 * sets itself pages: the defaults' `pager` stays an alert setting, so no rule file means no page for a
 * mention. The on-call schedule comes from the first rule that says `oncall`, else the defaults (which
 * fall back to ONCALL_SCHEDULE).
 */
export function routeSlackMessage(rules: CompiledRules, msg: RoutableSlackMessage): SlackRoute {
  const chain = matchingRules(rules, msg);
  const rule = ruleRef(rules, chain);
  const allowBots = chain.some((r) => r.allowBots === true);
  const dropper = chain.find((r) => r.drop);
  if (dropper) return { rule: ruleRef(rules, [dropper]), drop: true, allowBots, oncallDisabled: false };

  const d = rules.defaults;
  const oncall = { ...d.oncall, ...chain.find((r) => r.oncall !== undefined)?.oncall };
  const oncallDisabled = oncall.enabled === false;
  const pagerFrom = chain.find((r) => r.pager !== undefined)?.pager;
  const pager = pagerFrom ? { ...d.pager, ...pagerFrom } : undefined;
  return {
    rule,
    drop: false,
    allowBots,
    ...(!oncallDisabled && oncall.schedule ? { oncall: oncall.schedule } : {}),
    ...(oncall.schedule ? { schedule: oncall.schedule } : {}),
    oncallDisabled,
    ...(pager && pager.enabled
      ? { pager: { priority: pager.priority ?? 'P3', tags: pager.tags, responders: pager.responders } }
      : {}),
  };
}
