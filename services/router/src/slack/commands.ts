/** What a mention or DM asks for: one of the commands, or (the default) a request for help. */
export type SlackCommand =
  | { name: 'help' }
  | { name: 'oncall'; schedule?: string }
  | { name: 'cache-clear'; schedule?: string }
  | { name: 'ack' }
  | { name: 'resolve' }
  | { name: 'request' };

export type SlackCommandName = SlackCommand['name'];

interface CommandPattern {
  readonly name: Exclude<SlackCommandName, 'request'>;
  /** Tried against the text with the leading mentions removed, trimmed, whitespace collapsed. */
  readonly pattern: RegExp;
  /** How help shows it. */
  readonly usage: string;
  readonly summary: string;
}

/** A schedule name: one word, or anything in double quotes (Opsgenie names may contain spaces). */
const SCHEDULE = String.raw`(?:\s+(?:["“](?<quoted>[^"“”]+)["”]|(?<word>[^\s"“”]+)))?`;

const TABLE: CommandPattern[] = [
  { name: 'help', pattern: /^(?:help|\?)$/i, usage: 'help', summary: 'this list' },
  {
    name: 'oncall',
    pattern: new RegExp(`^on-?call${SCHEDULE}$`, 'i'),
    usage: 'oncall [schedule]',
    summary: 'who is on call (for that schedule, else for the one the rules name)',
  },
  {
    name: 'cache-clear',
    pattern: new RegExp(`^cache clear${SCHEDULE}$`, 'i'),
    usage: 'cache clear [schedule]',
    summary: 'forget the cached on-call answers (of one schedule, else all)',
  },
  { name: 'ack', pattern: /^(?:ack|acknowledge)$/i, usage: 'ack', summary: "acknowledge the incident (in an incident's thread)" },
  { name: 'resolve', pattern: /^resolve$/i, usage: 'resolve', summary: "resolve the incident (in an incident's thread)" },
];

/**
 * The commands, tried in order; the first whose pattern matches the whole text wins, and text that matches
 * none is a request (the rule's default behaviour). Frozen: a table, not code, so tests read it as one.
 */
export const COMMANDS: readonly CommandPattern[] = Object.freeze(TABLE.map((c) => Object.freeze({ ...c })));

/** A user or app mention as Slack writes it in text: <@U123> or <@U123|name>. */
const LEADING_MENTIONS = /^(?:\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+/i;

/**
 * The text without the mentions it starts with (`<@UBOT> help` → `help`), whitespace collapsed. Only leading
 * ones: a mention later in the text is part of what the person says ("oncall, then tell <@U42>").
 */
export function stripLeadingMentions(text: string): string {
  return text.replace(LEADING_MENTIONS, '').replace(/\s+/g, ' ').trim();
}

/** Which command the message is; text that matches no pattern is a request. */
export function parseCommand(text: string): SlackCommand {
  const t = stripLeadingMentions(text);
  for (const c of COMMANDS) {
    const m = c.pattern.exec(t);
    if (!m) continue;
    const schedule = (m.groups?.quoted ?? m.groups?.word)?.trim();
    switch (c.name) {
      case 'oncall':
      case 'cache-clear':
        return schedule ? { name: c.name, schedule } : { name: c.name };
      default:
        return { name: c.name };
    }
  }
  return { name: 'request' };
}

/** The answer to `help`: every command, and what anything else does. */
export function helpText(schedule: string | undefined): string {
  const lines = COMMANDS.map((c) => `• \`${c.usage}\` — ${c.summary}`);
  const fallback = schedule
    ? `Anything else is a request for help: I answer in its thread with the on-call of *${schedule}*.`
    : 'Anything else is a request for help, handled as the routing rules say.';
  return ['Mention me with one of:', ...lines, fallback].join('\n');
}
