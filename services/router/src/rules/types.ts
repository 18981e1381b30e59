import type { PagerPriority, Responder, RuleRef } from '@alertbus/schemas';
import type { Matcher } from './matcher';

export interface SlackSettings {
  readonly enabled: boolean;
  readonly channel: string;
}

export interface PagerSettings {
  readonly enabled: boolean;
  readonly priority?: PagerPriority;
  readonly priorityBySeverity: Readonly<Record<string, PagerPriority>>;
  readonly tags: readonly string[];
  readonly responders: readonly Responder[];
  readonly noteOnRepeat: boolean;
}

/** What a rule says, each part absent when the rule leaves it to later rules or the defaults. */
export interface RuleActions {
  readonly slack?: Partial<SlackSettings>;
  readonly pager?: Partial<PagerSettings>;
  readonly repeatIntervalMs?: number;
}

export interface CompiledRule extends RuleActions {
  readonly path: string;
  readonly name?: string;
  readonly matchers: readonly Matcher[];
  readonly continue: boolean;
  readonly drop: boolean;
}

/** The rules file compiled once at start: immutable, matched by a pure function. */
export interface CompiledRules {
  /** sha256 hex of the file bytes, or of the canonical JSON of the built-in defaults. */
  readonly version: string;
  /** Where the rules came from (a file path, or "built-in defaults"). */
  readonly origin: string;
  readonly defaults: {
    readonly slack: SlackSettings;
    readonly pager: PagerSettings;
    readonly repeatIntervalMs: number;
  };
  readonly rules: readonly CompiledRule[];
}

/** What the matched rules decide for one alert. */
export interface Route {
  readonly rule: RuleRef;
  readonly drop: boolean;
  /** Channel of the incident thread; absent when the alert goes to no Slack channel. */
  readonly slackChannel?: string;
  /** Absent when the alert pages no one. */
  readonly pager?: {
    readonly priority: PagerPriority;
    readonly tags: readonly string[];
    readonly responders: readonly Responder[];
    readonly noteOnRepeat: boolean;
  };
  readonly repeatIntervalMs: number;
}

/** The fields of an alert that rules look at. */
export interface RoutableAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly source: string;
  readonly severity: string;
  readonly status: string;
}
