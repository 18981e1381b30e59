import type { PagerPriority, RuleRef } from '@alertbus/schemas';
import { matches } from '@alertbus/schemas';
import { own } from '../core/own';
import { severityClass } from '../core/slack-format';
import { renderTemplate } from './template';
import type { ChannelSource, CompiledRule, CompiledRules, PagerSettings, Routable, Route, SlackSettings } from './types';

/**
 * Priority by severity when neither the rule nor the defaults say otherwise, by the class the Slack header shows
 * (severityClass): critical → P1, error → P2, warning → P3, info → P5; a priority written as a severity (`P4`,
 * `sev4`) keeps its number; anything else P3.
 */
export function builtinPriority(severity: string): PagerPriority {
  const numbered = /^\s*(?:p|sev-?)([1-5])\s*$/i.exec(severity);
  if (numbered) return `P${numbered[1]}` as PagerPriority;
  switch (severityClass(severity)) {
    case 'critical':
      return 'P1';
    case 'error':
      return 'P2';
    case 'info':
      return 'P5';
    default:
      return 'P3';
  }
}

/**
 * What matchers see. Alerts: labels plus the pseudo-labels source, severity and status (these win over
 * labels of the same name). Slack messages: source "slack" and channel, user, text.
 */
export function matchLabels(input: Routable): Record<string, string> {
  if (input.kind === 'slack-message') {
    return withPseudoLabels(input.labels, { source: 'slack', channel: input.channel, user: input.user, text: input.text });
  }
  return withPseudoLabels(input.labels, { source: input.source, severity: input.severity, status: input.status });
}

/**
 * `{ ...labels, ...pseudo }`, the same keys in the same order, copied one by one: V8 keeps many of the objects a
 * spread into a literal with further properties makes (a few hundred bytes per decision) past the young
 * generation, where they die among the states a router holds and fragment the old space (bench/router-memory.ts).
 */
export function withPseudoLabels(labels: Readonly<Record<string, string>> | undefined, pseudo: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of labels === undefined ? [] : Object.keys(labels)) {
    // Assigning `__proto__` would set the prototype where the spread defines a property: leave that rare case to it.
    if (k === '__proto__') return { ...labels, ...pseudo };
    out[k] = labels![k]!;
  }
  for (const k of Object.keys(pseudo)) out[k] = pseudo[k]!;
  return out;
}

const severityOf = (input: Routable) => (input.kind === 'slack-message' ? '' : input.severity);

/** One rule as the matcher saw it, for `alertbus rules test`: whether it matched and, if not, the first matcher that failed. */
export interface RuleTrace {
  path: string;
  name?: string;
  matched: boolean;
  failed?: string;
  /** Whether it is part of the chain that decides (a matching parent whose nested rules matched is not). */
  applied: boolean;
  routes: RuleTrace[];
}

/**
 * Alertmanager's tree walk: at each level rules are tried in order; a match descends into its nested rules
 * and, when none of them matches, applies itself; `continue: true` goes on to the next rule of the level.
 */
function walk(level: readonly CompiledRule[], labels: Record<string, string>, chain: CompiledRule[], trace: RuleTrace[] | null): void {
  for (let i = 0; i < level.length; i++) {
    const rule = level[i]!;
    const failed = rule.matchers.find((m) => !matches(m, labels));
    const t: RuleTrace | null = trace
      ? { path: rule.path, ...(rule.name ? { name: rule.name } : {}), matched: !failed, ...(failed ? { failed: failed.text } : {}), applied: false, routes: [] }
      : null;
    if (t) trace!.push(t);
    if (failed) continue;
    const before = chain.length;
    walk(rule.routes, labels, chain, t ? t.routes : null);
    if (chain.length === before) {
      chain.push(rule);
      if (t) t.applied = true;
    }
    if (!rule.continue) {
      // The rest of the level is never looked at; show it as not reached.
      if (trace) for (const rest of level.slice(i + 1)) trace.push(unreached(rest));
      return;
    }
  }
}

function unreached(rule: CompiledRule): RuleTrace {
  return { path: rule.path, ...(rule.name ? { name: rule.name } : {}), matched: false, failed: '(not reached)', applied: false, routes: [] };
}

/** Rules that decide, in order: the matched leaves of the tree, joined by `continue: true`. */
export function matchingRules(rules: CompiledRules, input: Routable, labels: Record<string, string> = matchLabels(input)): CompiledRule[] {
  const chain: CompiledRule[] = [];
  walk(rules.rules, labels, chain, null);
  return chain;
}

/** Every top-level rule (and the nested ones looked at) with whether it matched, for explanations. */
export function traceRules(rules: CompiledRules, input: Routable): RuleTrace[] {
  const trace: RuleTrace[] = [];
  walk(rules.rules, matchLabels(input), [], trace);
  return trace;
}

/** The rule's own priority or severity map first, then the defaults', then the built-in map. */
function priorityFor(rule: Partial<PagerSettings> | undefined, defaults: PagerSettings, severity: string): PagerPriority {
  const sev = severity.trim().toLowerCase();
  return (
    rule?.priority ??
    own(rule?.priorityBySeverity, sev) ??
    defaults.priority ??
    own(defaults.priorityBySeverity, sev) ??
    builtinPriority(severity)
  );
}

/** An alert's tags: its pager tags, then the comma-separated values of its `tags` label. */
export function tagsOf(input: Routable, pagerTags: readonly string[]): string[] {
  const fromLabel = (input.labels?.tags ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  return [...new Set([...pagerTags, ...fromLabel])];
}

/** A rule's own channel first, then tag → channel, then severity → channel, then the default channel. */
function channelFor(
  explicit: Partial<SlackSettings> | undefined,
  slack: SlackSettings,
  input: Routable,
  pagerTags: readonly string[],
): { channel: string; source: ChannelSource } {
  if (explicit?.channel) return { channel: explicit.channel, source: 'rule' };
  for (const tag of tagsOf(input, pagerTags)) {
    const c = own(slack.channelByTag, tag);
    if (c) return { channel: c, source: 'tag' };
  }
  const bySeverity = own(slack.channelBySeverity, severityOf(input).trim().toLowerCase());
  if (bySeverity) return { channel: bySeverity, source: 'severity' };
  return { channel: slack.channel, source: 'defaults' };
}

/** The rule reference recorded on every decision: the chain's paths and names, and the rules version. */
export function ruleRef(rules: CompiledRules, chain: readonly CompiledRule[]): RuleRef {
  if (chain.length === 0) return { path: 'defaults', rulesVersion: rules.version };
  const names = chain.map((r) => r.name).filter((n): n is string => n !== undefined);
  return { path: chain.map((r) => r.path).join(','), ...(names.length > 0 ? { name: names.join(',') } : {}), rulesVersion: rules.version };
}

/** What a chain of rules decides whatever the input (the settings each takes from the first rule setting it, else the defaults). */
interface ChainPart {
  readonly rules: CompiledRules;
  readonly rule: RuleRef;
  readonly drop: boolean;
  readonly slackFrom: Partial<SlackSettings> | undefined;
  readonly slack: SlackSettings;
  readonly pagerFrom: Partial<PagerSettings> | undefined;
  readonly pager: PagerSettings;
  readonly repeatIntervalMs: number;
  readonly mention: readonly string[];
}

/**
 * Chains of one rule by that rule, and the empty chain (the defaults) by the rules: nearly every input's chain, and its
 * part was made again for each (the rule reference, two merged settings objects). Compiled rules are never changed in
 * place (a reload compiles new ones), and what is kept is only read, so every input of the chain shares it.
 */
const oneRuleParts = new WeakMap<CompiledRule, ChainPart>();
const defaultsParts = new WeakMap<CompiledRules, ChainPart>();

function chainPart(rules: CompiledRules, chain: readonly CompiledRule[]): ChainPart {
  if (chain.length > 1) return makeChainPart(rules, chain);
  const kept = chain.length === 1 ? oneRuleParts.get(chain[0]!) : defaultsParts.get(rules);
  if (kept !== undefined && kept.rules === rules) return kept;
  const part = makeChainPart(rules, chain);
  if (chain.length === 1) oneRuleParts.set(chain[0]!, part);
  else defaultsParts.set(rules, part);
  return part;
}

function makeChainPart(rules: CompiledRules, chain: readonly CompiledRule[]): ChainPart {
  const d = rules.defaults;
  const dropper = chain.find((r) => r.drop);
  const slackFrom = chain.find((r) => r.slack !== undefined)?.slack;
  const pagerFrom = chain.find((r) => r.pager !== undefined)?.pager;
  return {
    rules,
    rule: dropper ? ruleRef(rules, [dropper]) : ruleRef(rules, chain),
    drop: dropper !== undefined,
    slackFrom,
    slack: { ...d.slack, ...slackFrom },
    pagerFrom,
    pager: { ...d.pager, ...pagerFrom },
    repeatIntervalMs: chain.find((r) => r.repeatIntervalMs !== undefined)?.repeatIntervalMs ?? d.repeatIntervalMs,
    mention: chain.find((r) => r.mention !== undefined)?.mention ?? [],
  };
}

/**
 * Where an input goes. Ordered rules, first match wins; nested rules refine their parent and inherit its
 * actions; with `continue: true` later matches join the chain, and each setting (Slack, pager, repeat
 * interval) comes from the first rule of the chain that sets it, else from the defaults. A drop anywhere in
 * the chain drops the input. No match: the defaults. `labels`: the input's matchLabels, when the caller has them.
 */
export function route(rules: CompiledRules, input: Routable, labels?: Record<string, string>): Route {
  const chain = matchingRules(rules, input, labels);
  const d = rules.defaults;
  const { rule, drop, slackFrom, slack, pagerFrom, pager, repeatIntervalMs, mention } = chainPart(rules, chain);
  if (drop) return { rule, drop: true, repeatIntervalMs: d.repeatIntervalMs };

  const target = slack.enabled ? channelFor(slackFrom, slack, input, pager.tags) : undefined;
  const alias = input.alias ?? '';
  return {
    rule,
    drop: false,
    ...(target && target.channel ? { slackChannel: target.channel, channelSource: target.source } : {}),
    ...(slack.mentionOnCall ? { mentionOnCall: slack.mentionOnCall } : {}),
    ...(target && mention.length > 0 ? { mention } : {}),
    ...(pager.enabled
      ? {
          pager: {
            priority: priorityFor(pagerFrom, d.pager, severityOf(input)),
            tags: pager.tags,
            responders: pager.responders,
            noteOnRepeat: pager.noteOnRepeat,
            ...(pager.storm !== undefined ? { storm: pager.storm } : {}),
            ...(pager.alias
              ? {
                  alias: renderTemplate(pager.alias, {
                    alias,
                    source: input.kind === 'slack-message' ? 'slack' : input.source,
                    severity: severityOf(input),
                    labels: input.labels ?? {},
                  }),
                }
              : {}),
          },
        }
      : {}),
    repeatIntervalMs,
  };
}
