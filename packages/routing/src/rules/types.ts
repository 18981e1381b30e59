import type { PagerPriority, Responder, RuleRef, StormPages } from '@alertbus/schemas';
import type { Matcher } from '@alertbus/schemas';
import type { AliasTemplate } from './template';

export interface SlackSettings {
  readonly enabled: boolean;
  readonly channel: string;
  /** Lower-cased severity → channel. */
  readonly channelBySeverity: Readonly<Record<string, string>>;
  readonly channelByTag: Readonly<Record<string, string>>;
  /** Schedule whose on-call is mentioned in the thread. */
  readonly mentionOnCall?: string;
}

export interface PagerSettings {
  readonly enabled: boolean;
  readonly priority?: PagerPriority;
  readonly priorityBySeverity: Readonly<Record<string, PagerPriority>>;
  readonly tags: readonly string[];
  readonly responders: readonly Responder[];
  readonly noteOnRepeat: boolean;
  readonly alias?: AliasTemplate;
  /** How these incidents page when a storm gathers them; unset: the storm control's `pages`. */
  readonly storm?: StormPages;
}

/** Slack requests (mentions, DMs): whose on-call answers in the thread. */
export interface OnCallSettings {
  readonly enabled: boolean;
  /** Opsgenie schedule; unset in the rules → ONCALL_SCHEDULE. */
  readonly schedule?: string;
  /** `oncall.reply`, in the slack-sink's placeholders ({mentions}, {schedule}, {requester}). */
  readonly replyTemplate?: string;
}

/** What a rule says, each part absent when the rule leaves it to later rules or the defaults. */
export interface RuleActions {
  readonly slack?: Partial<SlackSettings>;
  readonly pager?: Partial<PagerSettings>;
  readonly repeatIntervalMs?: number;
  /** Slack markup of who the incident's root post and re-notifications ping (`<!channel>`, `<!subteam^S…>`, `<@U…>`); [] pings nobody. */
  readonly mention?: readonly string[];
  readonly oncall?: Partial<OnCallSettings>;
  /** Slack messages of other apps pass this rule (they are dropped unless a rule of the chain allows them). */
  readonly allowBots?: boolean;
}

/**
 * One rule, its actions already merged with its ancestors' (a nested rule inherits its parent's actions and
 * overrides what it sets itself).
 */
export interface CompiledRule extends RuleActions {
  /** rules[1].routes[0] */
  readonly path: string;
  readonly name?: string;
  readonly matchers: readonly Matcher[];
  readonly continue: boolean;
  readonly drop: boolean;
  /** Nested rules: tried in order when this one matches; when none matches, this rule applies itself. */
  readonly routes: readonly CompiledRule[];
}

/** While an open incident matches `source`, firing alerts matching `target` with equal `equal` labels are suppressed. */
export interface CompiledInhibitRule {
  readonly path: string;
  readonly name?: string;
  readonly source: readonly Matcher[];
  readonly target: readonly Matcher[];
  readonly equal: readonly string[];
}

export interface StormLimits {
  readonly threshold: number;
  readonly windowMs: number;
  /** The window as written, for messages and explanations. */
  readonly window: string;
  /** How gathered incidents page unless their rule says otherwise (compiled rules always say; default grouped). */
  readonly pages?: StormPages;
}

export interface CompiledStormControl extends StormLimits {
  /** Per-channel limits; null: storm control is off for that channel. */
  readonly channels: Readonly<Record<string, StormLimits | null>>;
}

/** The rules file compiled once: immutable, matched by pure functions. */
export interface CompiledRules {
  /** sha256 hex of the file bytes, or of the canonical JSON of the built-in defaults. */
  readonly version: string;
  /** Where the rules came from (a file path, or "built-in defaults"). */
  readonly origin: string;
  readonly defaults: {
    readonly slack: SlackSettings;
    readonly pager: PagerSettings;
    readonly repeatIntervalMs: number;
    readonly oncall: OnCallSettings;
    /** defaults.late_copy_window: how long after its sender's resolve a firing of what it ended opens nothing (0: off). */
    readonly lateCopyWindowMs: number;
  };
  readonly rules: readonly CompiledRule[];
  readonly inhibit: readonly CompiledInhibitRule[];
  readonly stormControl?: CompiledStormControl;
  /** HISTORY_PUBLIC_URL, when set: alert messages link to the incident's page there. */
  readonly historyPublicUrl?: string;
  /** SLACK_COMMAND, when set: the slash command the texts that say what to type name (else /alertbus). */
  readonly slashCommand?: string;
  /** The file's `tags:` (notification tag → channel, username, icon), by tag name. */
  readonly tags: Readonly<Record<string, CompiledTag>>;
  /** The file's `permissions:`; absent: no section, everyone may do everything (the open behaviour of before). */
  readonly permissions?: CompiledPermissions;
  /** The file's `commands:`: the user's handlers (before the built-ins) and what an unmatched message does. */
  readonly commands: CompiledCommands;
}

export type Role = 'viewer' | 'operator' | 'admin';

export interface CompiledPermissions {
  readonly default: Role;
  /** Slack user id → role. */
  readonly users: Readonly<Record<string, Role>>;
  /** User-group handle (lower case, no @) → role. */
  readonly groups: Readonly<Record<string, Role>>;
}

/** A handler's pattern: fully anchored, case-insensitive RE2; `exec` gives the named groups of a match. */
export interface CommandPattern {
  readonly source: string;
  exec(text: string): Readonly<Record<string, string>> | null;
}

export type CommandAction =
  | { readonly kind: 'reply'; readonly template: string }
  | { readonly kind: 'webhook'; readonly url: string; readonly timeoutMs: number }
  | { readonly kind: 'command'; readonly name: string };

export interface CompiledCommandHandler {
  /** commands.handlers[2] */
  readonly path: string;
  readonly name?: string;
  /** What `help` says about it. */
  readonly description?: string;
  readonly pattern: CommandPattern;
  readonly action: CommandAction;
  /** The role the entry needs; absent: anyone. */
  readonly role?: Role;
}

export interface CompiledCommands {
  /** What a message to the app that no command matches does. */
  readonly default: 'oncall' | 'help' | 'ignore';
  readonly handlers: readonly CompiledCommandHandler[];
}

/** One notification tag of the rules file. */
export interface CompiledTag {
  readonly channel: string;
  readonly username?: string;
  readonly iconEmoji?: string;
  /** Level → channel, over `channel`. */
  readonly levelChannels: Readonly<Partial<Record<string, string>>>;
}

/** Where the route's Slack channel came from, for explanations. */
export type ChannelSource = 'rule' | 'tag' | 'severity' | 'defaults';

/** What the matched rules decide for one input. */
export interface Route {
  readonly rule: RuleRef;
  readonly drop: boolean;
  /** Channel of the incident thread; absent when the alert goes to no Slack channel. */
  readonly slackChannel?: string;
  readonly channelSource?: ChannelSource;
  /** Schedule whose on-call should be mentioned. */
  readonly mentionOnCall?: string;
  /** Who the root post and re-notifications ping, as Slack markup (the rule's `mention`); absent: nobody. */
  readonly mention?: readonly string[];
  /** Absent when the alert pages no one. */
  readonly pager?: {
    readonly priority: PagerPriority;
    readonly tags: readonly string[];
    readonly responders: readonly Responder[];
    readonly noteOnRepeat: boolean;
    /** The pager alert alias from the rule's template; absent: the incident alias. */
    readonly alias?: string;
    /** The rule's `pager.storm`: how the incident pages if a storm gathers it; absent: the storm control's. */
    readonly storm?: StormPages;
  };
  readonly repeatIntervalMs: number;
}

/** The fields of an alert that rules look at. */
export interface RoutableAlert {
  readonly kind?: 'alert';
  readonly labels: Readonly<Record<string, string>>;
  readonly source: string;
  readonly severity: string;
  readonly status: string;
  /** The incident alias, for pager alias templates. */
  readonly alias?: string;
}

/** The fields of a Slack message that rules look at (pseudo-labels channel, user, text; source is "slack"). */
export interface RoutableSlackMessage {
  readonly kind: 'slack-message';
  readonly channel: string;
  readonly user: string;
  readonly text: string;
  /** Extra pseudo-labels the Slack decisions may add (e.g. the message kind). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly alias?: string;
}

export type Routable = RoutableAlert | RoutableSlackMessage;
