import { RE2JS } from 're2js';
import { escapeMrkdwn } from '../core/text';
import type { CompiledCommands } from '../rules/types';

/** What a mention or DM asks for: one of the commands, or (the default) a request for help. */
export type SlackCommand =
  | { name: 'help' }
  | { name: 'oncall'; schedule?: string }
  | { name: 'cache-clear'; schedule?: string }
  | { name: 'ack'; target?: string }
  | { name: 'resolve'; target?: string }
  | { name: 'request' };

export type SlackCommandName = SlackCommand['name'];

interface CommandPattern {
  readonly name: Exclude<SlackCommandName, 'request'>;
  /** Tried against the whole text with the leading mentions removed, trimmed, whitespace collapsed (RE2: linear time). */
  readonly pattern: RE2JS;
  /** How help shows it. */
  readonly usage: string;
  readonly summary: string;
}

/** A schedule name: one word, or anything in double quotes (Opsgenie names may contain spaces). */
const SCHEDULE = String.raw`(?:\s+(?:["“](?<quoted>[^"“”]+)["”]|(?<word>[^\s"“”]+)))?`;

/**
 * What `ack` / `resolve` may name, as the slash command takes it (`ack <id|alias>`, an alias with spaces in double
 * quotes, straight or Slack's smart ones, which are not part of it): people type the same after a mention, and it must
 * read as the command it looks like, never as a request that pages someone.
 */
const TARGET = String.raw`(?:\s+(?:["“”](?<quotedTarget>[^"“”]+)["“”]|(?<target>\S+)))?`;

/**
 * How mentions read it until quotes were understood: one word, quotes included. Records keyed by that reading (a
 * quoted alias's quotes in the key, or a quoted alias with spaces that was a request) are decided by it again.
 */
const UNQUOTED_TARGET = String.raw`(?:\s+(?<target>\S+))?`;

/** A command's pattern: matched against the whole text, case-insensitively. */
const command = (source: string) => RE2JS.compile(`^(?:${source})$`, RE2JS.CASE_INSENSITIVE);

const TABLE: CommandPattern[] = [
  { name: 'help', pattern: command(String.raw`help|\?`), usage: 'help', summary: 'this list' },
  {
    name: 'oncall',
    pattern: command(`on-?call${SCHEDULE}`),
    usage: 'oncall [schedule]',
    summary: 'who is on call (for that schedule, else for the one the rules name)',
  },
  {
    name: 'cache-clear',
    pattern: command(`cache clear${SCHEDULE}`),
    usage: 'cache clear [schedule]',
    summary: 'forget the cached on-call answers (of one schedule, else all)',
  },
  { name: 'ack', pattern: command(`(?:ack|acknowledge)${TARGET}`), usage: 'ack [id|alias]', summary: "acknowledge the incident of this thread, or the one whose id or alias you name" },
  { name: 'resolve', pattern: command(`resolve${TARGET}`), usage: 'resolve [id|alias]', summary: "resolve the incident of this thread, or the one whose id or alias you name" },
];

/**
 * The commands, tried in order; the first whose pattern matches the whole text wins, and text that matches
 * none is a request (the rule's default behaviour). Frozen: a table, not code, so tests read it as one.
 */
export const COMMANDS: readonly CommandPattern[] = Object.freeze(TABLE.map((c) => Object.freeze({ ...c })));

/** `ack` / `resolve` as read before quotes were understood (UNQUOTED_TARGET). */
const UNQUOTED: ReadonlyMap<SlackCommandName, RE2JS> = new Map([
  ['ack', command(`(?:ack|acknowledge)${UNQUOTED_TARGET}`)],
  ['resolve', command(`resolve${UNQUOTED_TARGET}`)],
]);

export interface ParseOptions {
  /**
   * false: `ack` / `resolve` read their target as one word, quotes included, as they were before quotes were
   * understood; for records written then, so that a replay decides them as they were decided. Default true.
   */
  readonly quotedTargets?: boolean;
}

/** User or app mentions as Slack writes them in text (<@U123> or <@U123|name>), with what separates them. */
const LEADING_MENTIONS = RE2JS.compile(String.raw`^(?:\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+`, RE2JS.CASE_INSENSITIVE);

/**
 * The text without the mentions it starts with (`<@UBOT> help` → `help`), whitespace collapsed. Only leading
 * ones: a mention later in the text is part of what the person says ("oncall, then tell <@U42>").
 */
export function stripLeadingMentions(text: string): string {
  const lead = LEADING_MENTIONS.exec(text);
  const rest = lead ? text.slice(lead[0].length) : text;
  return rest.replace(/\s+/g, ' ').trim();
}

/** Which command the message is; text that matches no pattern is a request. */
export function parseCommand(text: string, opts: ParseOptions = {}): SlackCommand {
  const t = stripLeadingMentions(text);
  for (const c of COMMANDS) {
    const pattern = opts.quotedTargets === false ? (UNQUOTED.get(c.name) ?? c.pattern) : c.pattern;
    // re2js answers in the shape of RegExp#exec, named groups included.
    const m = pattern.exec(t) as RegExpExecArray | null;
    if (!m) continue;
    const schedule = (m.groups?.quoted ?? m.groups?.word)?.trim();
    const target = (m.groups?.quotedTarget ?? m.groups?.target)?.trim();
    switch (c.name) {
      case 'oncall':
      case 'cache-clear':
        return schedule ? { name: c.name, schedule } : { name: c.name };
      case 'ack':
      case 'resolve':
        return target ? { name: c.name, target } : { name: c.name };
      default:
        return { name: c.name };
    }
  }
  return { name: 'request' };
}

/** The answer to `help`: the rules file's own commands, the built-ins, and what anything else does. */
export function helpText(schedule: string | undefined, commands?: CompiledCommands): string {
  const own = (commands?.handlers ?? []).map(
    (h) => `• \`${h.name ?? h.pattern.source}\` — ${h.description ? escapeMrkdwn(h.description) : h.name ? `\`${h.pattern.source}\`` : 'a command of this workspace'}`,
  );
  const lines = COMMANDS.map((c) => `• \`${c.usage}\` — ${c.summary}`);
  const fallback =
    commands?.default === 'help'
      ? 'Anything else gets this list.'
      : commands?.default === 'ignore'
        ? 'I say nothing to anything else.'
        : schedule
          ? `Anything else is a request for help: I answer in its thread with the on-call of *${escapeMrkdwn(schedule)}*.`
          : 'Anything else is a request for help, handled as the routing rules say.';
  return ['Mention me with one of:', ...own, ...lines, fallback].join('\n');
}
