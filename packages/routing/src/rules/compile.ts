import { createHash } from 'node:crypto';
import Ajv, { type ErrorObject } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import {
  RulesFile,
  type InhibitRule,
  type RoutingRule,
  type RulesOnCallAction,
  type RulesPagerAction,
  type RulesSlackAction,
  type StormControl,
} from '@alertbus/schemas';
import { DURATION_PATTERN, RULES_CHANNEL_PATTERN, MAX_DURATION_TEXT, parseDuration, parseMatcher, regexCountProblem, type Matcher } from '@alertbus/schemas';
import { mentionMarkup, normaliseUsergroups, usergroupIdProblem } from './mention';
import { commandProblems, compileCommands, compilePermissions, permissionProblems } from './commands';
import { compileTags, replyTemplate, replyTemplateProblem } from './tags';
import { parseTemplate } from './template';
import type {
  CompiledInhibitRule,
  CompiledRule,
  CompiledRules,
  CompiledStormControl,
  OnCallSettings,
  PagerSettings,
  SlackSettings,
  StormLimits,
} from './types';

export const DEFAULT_REPEAT_INTERVAL = '4h';
/**
 * defaults.late_copy_window unset: how long after its sender's resolve was recorded a firing of the occurrence it ended
 * (a startsAt no later than its endsAt) is taken for a late copy and opens nothing. Alertmanager's default
 * group_interval, which bounds both how long an HA peer waits before sending what the other did not and how long a
 * webhook is retried. Later than that, such a firing opens again: Alertmanager sends the old startsAt when Prometheus
 * comes back from an outage (longer than the alerts' 4-minute endsAt) with the alert still firing, and the repeats of
 * that would all be suppressed with it. Not written into the built-in rules, so their version stays what it was.
 */
export const DEFAULT_LATE_COPY_WINDOW = '5m';
/**
 * Storm control of the built-in rules and of every rules file that does not turn it off: above 30 new incidents a
 * minute in a channel, further ones go into one summary message updated in place and page once for the storm, so a
 * storm of thousands is a handful of Slack and pager calls, not hours of backlog at Slack's one message per second
 * per channel.
 */
export const DEFAULT_STORM_CONTROL = { threshold: 30, window: '1m', pages: 'grouped' } as const;
export const BUILTIN_ORIGIN = 'built-in defaults';

/** One problem in a rules file, with where it is. */
export interface RulesProblem {
  line?: number;
  col?: number;
  /** Path inside the document, e.g. rules[1].match[0]. */
  path: string;
  message: string;
}

export type CompileResult = { ok: true; rules: CompiledRules } | { ok: false; problems: RulesProblem[]; message: string };

export interface CompileOptions {
  /** Channel used when the file's defaults name none (SLACK_DEFAULT_CHANNEL). */
  defaultChannel: string;
  /** Schedule of the on-call reply to Slack requests when the file's defaults name none (ONCALL_SCHEDULE). */
  oncallSchedule?: string;
  /** HISTORY_PUBLIC_URL: alert messages link to the incident's page there. Not part of the rules' version. */
  historyPublicUrl?: string;
  /** SLACK_COMMAND (default /alertbus): named in the texts that say what to type. Not part of the rules' version. */
  slashCommand?: string;
}

// verbose: errors carry their schema, so an unknown field can be answered with the known ones.
const validateFile = new Ajv({ allErrors: true, verbose: true, strict: false }).compile(RulesFile);

type Segment = string | number;

function pathText(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out || '(document)';
}

function pointerSegments(pointer: string, doc: Document): Segment[] {
  const raw = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const out: Segment[] = [];
  for (const s of raw) {
    const parent = doc.getIn(out, true);
    out.push(isSeq(parent) && /^\d+$/.test(s) ? Number(s) : s);
  }
  return out;
}

/** Where a node (or a map key under it) starts, as 1-based line and column. */
function locate(doc: Document, lc: LineCounter, segments: readonly Segment[], key?: string): { line?: number; col?: number } {
  let node = doc.getIn(segments, true) as YamlNode | undefined;
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
    if (pair?.key) node = pair.key as YamlNode;
  }
  if (!node && segments.length === 0) node = doc.contents ?? undefined;
  const offset = node?.range?.[0];
  if (offset === undefined) return {};
  return lc.linePos(offset);
}

function describeSchemaErrors(errors: ErrorObject[], doc: Document, lc: LineCounter): RulesProblem[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const problems: RulesProblem[] = [];
  for (const [pointer, list] of byPath) {
    const segments = pointerSegments(pointer, doc);
    // A duration or 0: one problem for the value, not one per alternative of the schema's union.
    if (/\/late_copy_window$/.test(pointer)) {
      problems.push({ ...locate(doc, lc, segments), path: pathText(segments), message: 'must be a duration such as 5m or 10m, or 0 to turn late-copy suppression off' });
      continue;
    }
    const consts = list.filter((e) => e.keyword === 'const').map((e) => JSON.stringify((e.params as { allowedValue: unknown }).allowedValue));
    for (const e of list) {
      if (e.keyword === 'const') continue;
      if (e.keyword === 'anyOf' && consts.length > 0) {
        problems.push({ ...locate(doc, lc, segments), path: pathText(segments), message: `must be one of ${consts.join(', ')}` });
        continue;
      }
      if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
        problems.push({
          ...locate(doc, lc, segments, extra),
          path: pathText([...segments, extra]),
          message: `unknown field "${extra}"${known.length ? ` (expected one of: ${known.join(', ')})` : ''}`,
        });
        continue;
      }
      let message = e.message ?? 'invalid';
      // Every duration field (repeat_interval, storm windows, webhook timeouts), not the regex behind it.
      if (e.keyword === 'pattern' && (e.params as { pattern?: string }).pattern === DURATION_PATTERN) message = 'must be a duration such as 4h, 30m or 1h30m';
      if (e.keyword === 'pattern' && (e.params as { pattern?: string }).pattern === RULES_CHANNEL_PATTERN) {
        message = 'must be a Slack channel name (#alerts) or id (C0123), without spaces';
      }
      if (e.keyword === 'type') {
        message = `must be ${(e.params as { type: string }).type}`;
        // `channel: #alerts` is `channel:` and a comment: YAML reads null.
        if ((e as { data?: unknown }).data === null && /channel$/.test(pointer)) message += ' (a # starts a YAML comment: quote the channel, "#alerts")';
      }
      problems.push({ ...locate(doc, lc, segments), path: pathText(segments), message });
    }
  }
  return problems;
}

function lowerKeys<T>(map: Readonly<Record<string, T>> | undefined): Record<string, T> | undefined {
  return map ? Object.fromEntries(Object.entries(map).map(([k, v]) => [k.trim().toLowerCase(), v])) : undefined;
}

/**
 * A `slack:` or `pager:` section that is written turns that output on unless it says `enabled: false`: a rule
 * naming a channel, or a priority and responders, under `defaults: { pager: { enabled: false } }` means to post or
 * page for what it matches; inheriting the defaults' `false` made it accepted and silently inert.
 */
function slackPart(a: RulesSlackAction | undefined): Partial<SlackSettings> | undefined {
  if (!a) return undefined;
  return {
    enabled: a.enabled ?? true,
    ...(a.channel !== undefined ? { channel: a.channel } : {}),
    ...(a.channel_by_severity !== undefined ? { channelBySeverity: lowerKeys(a.channel_by_severity)! } : {}),
    ...(a.channel_by_tag !== undefined ? { channelByTag: { ...a.channel_by_tag } } : {}),
    ...(a.mention_oncall !== undefined ? { mentionOnCall: a.mention_oncall } : {}),
  };
}

function pagerPart(a: RulesPagerAction | undefined): Partial<PagerSettings> | undefined {
  if (!a) return undefined;
  const template = a.alias !== undefined ? parseTemplate(a.alias) : undefined;
  return {
    enabled: a.enabled ?? true,
    ...(a.priority !== undefined ? { priority: a.priority } : {}),
    ...(a.priority_by_severity !== undefined ? { priorityBySeverity: lowerKeys(a.priority_by_severity)! } : {}),
    ...(a.tags !== undefined ? { tags: a.tags } : {}),
    ...(a.responders !== undefined ? { responders: a.responders } : {}),
    ...(a.note_on_repeat !== undefined ? { noteOnRepeat: a.note_on_repeat } : {}),
    ...(a.storm !== undefined ? { storm: a.storm } : {}),
    ...(template?.ok ? { alias: template.template } : {}),
  };
}

function oncallPart(a: RulesOnCallAction | undefined): Partial<OnCallSettings> | undefined {
  if (!a) return undefined;
  return {
    ...(a.enabled !== undefined ? { enabled: a.enabled } : {}),
    ...(a.schedule !== undefined ? { schedule: a.schedule } : {}),
    ...(a.reply !== undefined ? { replyTemplate: replyTemplate(a.reply) } : {}),
  };
}

/** Field by field: the child's own settings over what it inherits. */
function inherit<T extends object>(parent: T | undefined, own: T | undefined): T | undefined {
  if (parent === undefined && own === undefined) return undefined;
  return { ...parent, ...own } as T;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

type LocateAt = (segments: Segment[]) => { line?: number; col?: number };

/**
 * Problems the schema cannot see (matcher syntax, regexes, zero durations, alias templates, drop rules
 * with actions), looked for in whatever parts of the document have the right shape, so one run reports them all.
 */
function semanticProblems(value: unknown, locateAt: LocateAt): RulesProblem[] {
  const problems: RulesProblem[] = [];
  const at = (segments: Segment[], message: string) => problems.push({ ...locateAt(segments), path: pathText(segments), message });
  const zero = (v: unknown, segments: Segment[]) => {
    if (typeof v !== 'string') return;
    const ms = parseDuration(v);
    if (ms === 0) at(segments, 'must be longer than 0');
    // The schema's pattern takes any digits: a length past what a number holds exactly would be counted as unset.
    else if (ms === null && new RegExp(DURATION_PATTERN).test(v)) at(segments, `is too long: at most ${MAX_DURATION_TEXT}`);
  };
  const matchers = (list: unknown, segments: Segment[]) => {
    if (!Array.isArray(list)) return;
    const parsedOk: Matcher[] = [];
    list.forEach((text: unknown, j) => {
      if (typeof text !== 'string') return;
      const parsed = parseMatcher(text);
      if (parsed.ok) parsedOk.push(parsed.matcher);
      else at([...segments, j], parsed.error);
    });
    const tooMany = regexCountProblem(parsedOk);
    if (tooMany) at(segments, tooMany);
  };
  const pagerAlias = (pager: unknown, segments: Segment[]) => {
    if (!isObject(pager) || typeof pager.alias !== 'string') return;
    const parsed = parseTemplate(pager.alias);
    if (!parsed.ok) at([...segments, 'alias'], parsed.error);
    // `{labels.x}` is text, not a placeholder: every incident of the rule would share one pager alert.
    else if (/[{}]/.test(pager.alias.replace(/\{\{[^{}]*\}\}/g, ''))) {
      at([...segments, 'alias'], `a single brace in ${JSON.stringify(pager.alias)}: placeholders are written in double braces, as {{ labels.NAME }}`);
    }
  };
  if (!isObject(value)) return problems;
  const usergroups = isObject(value.usergroups) ? normaliseUsergroups(value.usergroups as Record<string, string>) : {};
  if (isObject(value.usergroups)) {
    for (const [handle, id] of Object.entries(value.usergroups)) {
      const problem = typeof id === 'string' ? usergroupIdProblem(id) : null;
      if (problem) at(['usergroups', handle], problem);
    }
  }
  const mention = (list: unknown, segments: Segment[]) => {
    if (!Array.isArray(list)) return;
    list.forEach((entry: unknown, j) => {
      if (typeof entry !== 'string') return;
      const m = mentionMarkup(entry, usergroups);
      if (!m.ok) at([...segments, j], m.error);
    });
  };
  const bySeverityBeside = (pager: unknown, segments: Segment[]) => {
    if (isObject(pager) && pager.priority !== undefined && pager.priority_by_severity !== undefined) {
      at([...segments, 'priority_by_severity'], 'priority always wins over priority_by_severity beside it: give one or the other');
    }
  };
  if (isObject(value.defaults)) {
    zero(value.defaults.repeat_interval, ['defaults', 'repeat_interval']);
    // 0 is allowed here (off); only a length past what a number holds is refused.
    const lateCopy = value.defaults.late_copy_window;
    if (typeof lateCopy === 'string' && parseDuration(lateCopy) === null && new RegExp(DURATION_PATTERN).test(lateCopy)) {
      at(['defaults', 'late_copy_window'], `is too long: at most ${MAX_DURATION_TEXT}`);
    }
    pagerAlias(value.defaults.pager, ['defaults', 'pager']);
    bySeverityBeside(value.defaults.pager, ['defaults', 'pager']);
  }
  const rule = (r: unknown, segments: Segment[]) => {
    if (!isObject(r)) return;
    matchers(r.match, [...segments, 'match']);
    if (r.drop === true && (r.slack !== undefined || r.pager !== undefined || r.continue === true)) {
      problems.push({ ...locateAt([...segments, 'drop']), path: pathText(segments), message: 'a rule with drop: true takes no slack, pager or continue' });
    } else if (r.drop === true) {
      // Inert beside a drop: nothing is posted, paged or answered.
      const inert = ['mention', 'repeat_interval', 'oncall'].filter((k) => r[k] !== undefined);
      if (inert.length > 0) at([...segments, inert[0]!], `a rule with drop: true posts, pages and answers nothing, so ${inert.join(', ')} would do nothing`);
    }
    // In one section, the one value always wins over the map beside it: the map would never be used.
    if (isObject(r.slack) && r.slack.channel !== undefined) {
      const maps = ['channel_by_severity', 'channel_by_tag'].filter((k) => (r.slack as Record<string, unknown>)[k] !== undefined);
      if (maps.length > 0) at([...segments, 'slack', maps[0]!], `a rule's own channel always wins over ${maps.join(' and ')}: give one or the other`);
    }
    bySeverityBeside(r.pager, [...segments, 'pager']);
    zero(r.repeat_interval, [...segments, 'repeat_interval']);
    mention(r.mention, [...segments, 'mention']);
    pagerAlias(r.pager, [...segments, 'pager']);
    if (isObject(r.oncall)) replyProblem(r.oncall.reply, [...segments, 'oncall', 'reply']);
    if (Array.isArray(r.routes)) r.routes.forEach((child: unknown, j) => rule(child, [...segments, 'routes', j]));
  };
  const replyProblem = (reply: unknown, segments: Segment[]) => {
    const problem = typeof reply === 'string' ? replyTemplateProblem(reply) : null;
    if (problem) at(segments, problem);
  };
  if (isObject(value.defaults) && isObject(value.defaults.oncall)) replyProblem(value.defaults.oncall.reply, ['defaults', 'oncall', 'reply']);
  if (Array.isArray(value.rules)) value.rules.forEach((r: unknown, i) => rule(r, ['rules', i]));
  if (Array.isArray(value.inhibit)) {
    value.inhibit.forEach((r: unknown, i) => {
      if (!isObject(r)) return;
      matchers(r.source_match, ['inhibit', i, 'source_match']);
      matchers(r.target_match, ['inhibit', i, 'target_match']);
      // A label no alert has is "missing on both", which counts as equal: `["cluster, alertname"]` (one item where
      // two were meant) would let one open source mute every target everywhere.
      if (Array.isArray(r.equal)) {
        r.equal.forEach((name: unknown, j) => {
          if (typeof name === 'string' && /[\s,]/.test(name)) {
            at(['inhibit', i, 'equal', j], `${JSON.stringify(name)} is not a label name (a comma or a space): list each label as an item of its own, as [cluster, alertname]`);
          }
        });
      }
    });
  }
  for (const p of [...commandProblems(value.commands), ...permissionProblems(value.permissions)]) at(p.segments, p.message);
  if (isObject(value.storm_control)) {
    zero(value.storm_control.window, ['storm_control', 'window']);
    if (isObject(value.storm_control.channels)) {
      for (const [ch, o] of Object.entries(value.storm_control.channels)) {
        if (isObject(o)) zero(o.window, ['storm_control', 'channels', ch, 'window']);
      }
    }
  }
  return problems;
}

const parsedMatchers = (texts: readonly string[] | undefined) =>
  (texts ?? []).map(parseMatcher).flatMap((p) => (p.ok ? [p.matcher] : []));

/** A rule's `mention` as Slack markup (the file was checked: every entry resolves). */
const mentionOf = (list: readonly string[] | undefined, usergroups: Readonly<Record<string, string>>) =>
  list?.map((e) => mentionMarkup(e, usergroups)).flatMap((m) => (m.ok ? [m.markup] : []));

function buildRule(r: RoutingRule, path: string, parent: CompiledRule | undefined, usergroups: Readonly<Record<string, string>>): CompiledRule {
  const slack = inherit(parent?.slack, slackPart(r.slack));
  const pager = inherit(parent?.pager, pagerPart(r.pager));
  const oncall = inherit(parent?.oncall, oncallPart(r.oncall));
  const allowBots = r.allow_bots ?? parent?.allowBots;
  const own = r.repeat_interval !== undefined ? parseDuration(r.repeat_interval) ?? undefined : undefined;
  const repeatIntervalMs = own ?? parent?.repeatIntervalMs;
  const mention = mentionOf(r.mention, usergroups) ?? parent?.mention;
  const rule: CompiledRule = {
    path,
    ...(r.name !== undefined ? { name: r.name } : {}),
    matchers: parsedMatchers(r.match),
    continue: r.continue ?? false,
    drop: r.drop ?? parent?.drop ?? false,
    ...(slack ? { slack } : {}),
    ...(pager ? { pager } : {}),
    ...(repeatIntervalMs !== undefined ? { repeatIntervalMs } : {}),
    ...(mention !== undefined ? { mention: [...new Set(mention)] } : {}),
    ...(oncall ? { oncall } : {}),
    ...(allowBots !== undefined ? { allowBots } : {}),
    routes: [],
  };
  const routes = (r.routes ?? []).map((child, j) => buildRule(child, `${path}.routes[${j}]`, rule, usergroups));
  return { ...rule, routes };
}

function buildInhibit(r: InhibitRule, i: number): CompiledInhibitRule {
  return {
    path: `inhibit[${i}]`,
    ...(r.name !== undefined ? { name: r.name } : {}),
    source: parsedMatchers(r.source_match),
    target: parsedMatchers(r.target_match),
    equal: [...(r.equal ?? [])],
  };
}

/**
 * Storm control is on unless the file turns it off (`enabled: false`): a file of one's own gets the built-in limits
 * for what it leaves out, so writing rules never quietly gives up the protection against a flood of threads and pages.
 */
function buildStorm(s: StormControl | undefined): CompiledStormControl | undefined {
  if (s?.enabled === false) return undefined;
  const threshold = s?.threshold ?? DEFAULT_STORM_CONTROL.threshold;
  const window = s?.window ?? DEFAULT_STORM_CONTROL.window;
  const pages = s?.pages ?? DEFAULT_STORM_CONTROL.pages;
  const channels: Record<string, StormLimits | null> = {};
  for (const [channel, o] of Object.entries(s?.channels ?? {})) {
    if (o.enabled === false) {
      channels[channel] = null;
      continue;
    }
    const w = o.window ?? window;
    channels[channel] = { threshold: o.threshold ?? threshold, window: w, windowMs: parseDuration(w) ?? 0, pages: o.pages ?? pages };
  }
  return { threshold, window, windowMs: parseDuration(window) ?? 0, pages, channels };
}

/** Built from a validated file object; `locateAt` maps a path to a line for semantic problems. */
function build(file: RulesFile, version: string, origin: string, opts: CompileOptions, locateAt: LocateAt): CompileResult {
  const problems: RulesProblem[] = [];
  const d = file.defaults ?? {};
  const defaultSlack: SlackSettings = {
    enabled: true,
    channel: opts.defaultChannel,
    channelBySeverity: {},
    channelByTag: {},
    ...slackPart(d.slack),
  };
  const defaultPager: PagerSettings = {
    enabled: true,
    priorityBySeverity: {},
    tags: [],
    responders: [],
    noteOnRepeat: false,
    ...pagerPart(d.pager),
  };
  const oncallFromFile = oncallPart(d.oncall);
  const defaultOnCall: OnCallSettings = {
    enabled: true,
    ...(opts.oncallSchedule ? { schedule: opts.oncallSchedule } : {}),
    ...oncallFromFile,
  };
  const usergroups = normaliseUsergroups(file.usergroups);
  const rules = (file.rules ?? []).map((r, i) => buildRule(r, `rules[${i}]`, undefined, usergroups));
  const repeatIntervalMs = parseDuration(d.repeat_interval ?? DEFAULT_REPEAT_INTERVAL) ?? 0;
  const lateCopy = d.late_copy_window ?? DEFAULT_LATE_COPY_WINDOW;
  const lateCopyWindowMs = lateCopy === 0 || lateCopy === '0' ? 0 : parseDuration(lateCopy) ?? 0;
  if (defaultSlack.enabled && !defaultSlack.channel) {
    problems.push({ ...locateAt(['defaults', 'slack']), path: 'defaults.slack.channel', message: 'is empty' });
  }
  if (problems.length > 0) return failure(origin, problems);
  const stormControl = buildStorm(file.storm_control);
  const compiled: CompiledRules = {
    tags: compileTags(file.tags),
    ...(opts.historyPublicUrl ? { historyPublicUrl: opts.historyPublicUrl } : {}),
    ...(opts.slashCommand ? { slashCommand: opts.slashCommand } : {}),
    version,
    origin,
    defaults: { slack: defaultSlack, pager: defaultPager, repeatIntervalMs, oncall: defaultOnCall, lateCopyWindowMs },
    rules,
    inhibit: (file.inhibit ?? []).map(buildInhibit),
    ...(stormControl ? { stormControl } : {}),
    ...(file.permissions ? { permissions: compilePermissions(file.permissions) } : {}),
    commands: compileCommands(file.commands),
  };
  return { ok: true, rules: deepFreeze(compiled) };
}

function failure(origin: string, problems: RulesProblem[]): CompileResult {
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  const message = problems
    .map((p) => `${origin}${p.line !== undefined ? `:${p.line}:${p.col ?? 1}` : ''}: ${p.path}: ${p.message}`)
    .join('\n');
  return { ok: false, problems, message };
}

export function sha256Hex(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Compiles a YAML rules file; problems name the line, the path inside the document and what is wrong. */
export function compileRules(bytes: string | Buffer, origin: string, opts: CompileOptions): CompileResult {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return failure(
      origin,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
        const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return { line: pos.line, col: pos.col, path: '(yaml)', message: `YAML syntax: ${message}` };
      }),
    );
  }
  // An empty file is what a truncating editor or `cp` leaves for a moment: taken as "no rules" it would wipe every
  // team's routing and inhibit rules, so only a file that states something (even `rules: []`) is rules.
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) {
    const message = 'is empty: no rules; the previous rules stay in force (to route everything by the defaults, write `rules: []`)';
    return { ok: false, problems: [{ path: '(file)', message }], message: `${origin} ${message}` };
  }
  const locateAt = (segments: Segment[]) => locate(doc, lc, segments);
  const problems = [
    ...(validateFile(value) ? [] : describeSchemaErrors(validateFile.errors ?? [], doc, lc)),
    ...semanticProblems(value, locateAt),
  ];
  if (problems.length > 0) return failure(origin, problems);
  return build(value as RulesFile, sha256Hex(bytes), origin, opts, locateAt);
}

/** Sorted-key JSON, so equal objects hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The rules used when ROUTING_RULES is unset: everything to the default channel and the pager, with storm control. */
export function builtinRules(opts: CompileOptions): CompiledRules {
  const file: RulesFile = {
    defaults: {
      slack: { channel: opts.defaultChannel, enabled: true },
      pager: { enabled: true, priority_by_severity: {}, tags: [], responders: [], note_on_repeat: false },
      repeat_interval: DEFAULT_REPEAT_INTERVAL,
      // Part of the file, so of the version: another ONCALL_SCHEDULE decides differently.
      ...(opts.oncallSchedule ? { oncall: { schedule: opts.oncallSchedule } } : {}),
    },
    rules: [],
    storm_control: { threshold: DEFAULT_STORM_CONTROL.threshold, window: DEFAULT_STORM_CONTROL.window },
  };
  const result = build(file, sha256Hex(canonicalJson(file)), BUILTIN_ORIGIN, opts, () => ({}));
  if (!result.ok) throw new Error(`built-in rules are invalid: ${result.message}`);
  return result.rules;
}
