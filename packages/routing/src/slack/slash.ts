/**
 * What a slash command (`/alertbus …`) asks for, parsed from its text. Pure; shared by ingest (which keys the
 * record by the incident an `ack` / `resolve` names) and the router (which decides it).
 */
import { formatDuration, parseDuration, parseMatcher, regexCountProblem, silencePseudoLabelProblem, unselective } from '@alertbus/schemas';
import { escapeMrkdwn } from '../core/text';
import { parseCommand } from './commands';

/** The longest silence a slash command may set unless SILENCE_MAX_DURATION says otherwise (the history API's default). */
export const SLASH_SILENCE_MAX_MS = 30 * 86_400_000;

/** Longest incident alias (as SlackButtonValue and the pager allow). */
const ALIAS_MAX = 512;

export type SlashCommand =
  | { readonly name: 'help' }
  | { readonly name: 'oncall'; readonly schedule?: string }
  | { readonly name: 'incidents'; readonly filter: 'open' | 'mine' }
  | { readonly name: 'ack' | 'resolve'; readonly target: string }
  | { readonly name: 'silence'; readonly matchers: readonly string[]; readonly duration: string; readonly durationMs: number; readonly comment?: string }
  | { readonly name: 'silences' }
  | { readonly name: 'unsilence'; readonly silenceId: string }
  /** A known subcommand written wrongly: what is wrong, and how it is written. */
  | { readonly name: 'invalid'; readonly subcommand: string; readonly problem: string }
  | { readonly name: 'unknown'; readonly word: string };

export interface ParsedSlash {
  readonly command: SlashCommand;
  /** `--public` was given: the answer is shown in the channel, not only to who asked. */
  readonly public: boolean;
}

export const SLASH_USAGE: ReadonlyArray<readonly [string, string]> = [
  ['help', 'this list'],
  ['oncall [schedule]', 'who is on call (for that schedule, else for the one the rules name)'],
  ['incidents [open|mine]', 'the open incidents, or the ones you acknowledged'],
  ['ack <id|alias>', 'acknowledge an incident'],
  ['resolve <id|alias>', 'resolve an incident'],
  ['silence <matchers> for <duration> [-- comment]', 'e.g. `silence alertname="DiskFull" env="prod" for 2h -- disk swap`'],
  ['silences', 'the active and pending silences'],
  ['unsilence <id>', 'end a silence now'],
];

/** How a subcommand is written (its line of SLASH_USAGE). */
export const usageOf = (name: string) => SLASH_USAGE.find(([u]) => u.split(' ')[0] === name)?.[0] ?? name;

/** Slack escapes `&`, `<` and `>` in a command's text; matchers and aliases are read as they were typed. */
function unescapeSlack(text: string): string {
  return text.replace(/&(lt|gt|amp);/g, (_, e: string) => (e === 'lt' ? '<' : e === 'gt' ? '>' : '&'));
}

/** Slack's "smart" quotes, as some clients send them, as plain ones (matchers quote their values). */
const plainQuotes = (text: string) => text.replace(/[“”]/g, '"').replace(/[‘’]/g, "'");

/** Whitespace-separated words (and comma-separated, when asked), a double-quoted part (with `\"` inside) kept in its word. Linear. */
export function words(text: string, commas = false): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      cur += ch;
      if (ch === '\\' && i + 1 < text.length) cur += text[++i];
      else if (ch === '"') quoted = false;
    } else if (ch === '"') {
      cur += ch;
      quoted = true;
    } else if (/\s/.test(ch) || (commas && ch === ',')) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

const invalid = (subcommand: string, problem: string): SlashCommand => ({ name: 'invalid', subcommand, problem });

function parseSilence(args: string[], comment: string | undefined, maxMs: number): SlashCommand {
  const at = args.lastIndexOf('for');
  if (at < 0 || at !== args.length - 2) return invalid('silence', 'say how long: `for &lt;duration&gt;` after the matchers');
  const duration = args[at + 1]!;
  const durationMs = parseDuration(duration);
  if (durationMs === null || durationMs === 0) return invalid('silence', `\`${escapeMrkdwn(duration)}\` is not a duration like 30m, 2h or 1h30m`);
  if (durationMs > maxMs) {
    return invalid('silence', `${formatDuration(durationMs)} is longer than a silence may last (${formatDuration(maxMs)}, SILENCE_MAX_DURATION)`);
  }
  // `{a="b", c="d"}` as Alertmanager prints matchers, or `a="b" c="d"`.
  const matchers = args
    .slice(0, at)
    .join(' ')
    .replace(/^\s*\{/, '')
    .replace(/\}\s*$/, '');
  const texts = words(matchers, true);
  if (texts.length === 0) return invalid('silence', 'give at least one matcher, e.g. `alertname="DiskFull"`');
  const parsed = [];
  for (const t of texts) {
    // `env='prod'` (or ‘prod’, made plain above) is a value of six characters, quotes included: it would match nothing.
    const single = /^\s*([^=!~\s]+)\s*(=~|!~|!=|=)\s*'(.*)'\s*$/s.exec(t);
    if (single) {
      return invalid('silence', `\`${escapeMrkdwn(t)}\`: single quotes are part of the value here, so it would match nothing: write \`${escapeMrkdwn(`${single[1]}${single[2]}"${single[3]}"`)}\``);
    }
    const p = parseMatcher(t);
    if (!p.ok) return invalid('silence', `\`${escapeMrkdwn(t)}\`: ${escapeMrkdwn(p.error)}`);
    const never = silencePseudoLabelProblem(p.matcher);
    if (never) return invalid('silence', `\`${escapeMrkdwn(t)}\`: ${escapeMrkdwn(never)}`);
    parsed.push(p.matcher);
  }
  const tooMany = regexCountProblem(parsed);
  if (tooMany) return invalid('silence', escapeMrkdwn(tooMany));
  // A matcher that accepts alerts without the label, or any value it holds (`=~".+"`, `!=""`), selects nothing; with
  // only such matchers every alert would be muted (the history API asks for `allowAll` for that; Slack has no such switch).
  if (parsed.every(unselective)) {
    return invalid('silence', 'these matchers would silence every alert: add one that chooses alerts by a value, e.g. `alertname="DiskFull"`');
  }
  return { name: 'silence', matchers: texts, duration, durationMs, ...(comment ? { comment } : {}) };
}

/** The longest silence id (the events' Id). */
const SILENCE_ID_MAX = 200;

function parseTarget(name: 'ack' | 'resolve', args: string[]): SlashCommand {
  if (args.length !== 1) return invalid(name, `name one incident: \`${escapeMrkdwn(usageOf(name))}\``);
  const given = args[0]!;
  const target = given.length > 1 && given.startsWith('"') && given.endsWith('"') ? given.slice(1, -1) : given;
  if (target.length > ALIAS_MAX) return invalid(name, `an incident alias is at most ${ALIAS_MAX} characters`);
  return { name, target };
}

/**
 * The subcommand and its arguments; `--public` may stand anywhere and is taken out. `silenceMaxMs`: the longest
 * silence allowed (SILENCE_MAX_DURATION; default SLASH_SILENCE_MAX_MS).
 */
export function parseSlash(text: string, opts: { silenceMaxMs?: number } = {}): ParsedSlash {
  const plain = plainQuotes(unescapeSlack(text)).trim();
  // A silence's comment follows ` -- `: it may say anything, so it is cut off before the words are read.
  const sep = plain.search(/(^|\s)--(\s|$)/);
  const head = sep < 0 ? plain : plain.slice(0, sep);
  const rawComment = sep < 0 ? undefined : plain.slice(sep).replace(/^\s*--/, '');
  const all = words(head);
  const commentWords = rawComment === undefined ? [] : rawComment.split(/\s+/).filter((w) => w !== '');
  const isPublic = all.includes('--public') || commentWords.includes('--public');
  const args = all.filter((w) => w !== '--public');
  const comment = commentWords.filter((w) => w !== '--public').join(' ') || undefined;
  const [first = 'help', ...rest] = args;
  const word = first.toLowerCase();
  const command = ((): SlashCommand => {
    switch (word) {
      case 'help':
      case '?':
        return { name: 'help' };
      case 'oncall':
      case 'on-call': {
        // The mention commands' own reading of `oncall [schedule]` (quoted names included).
        const c = parseCommand(['oncall', ...rest].join(' '));
        return c.name === 'oncall' ? c : invalid('oncall', `name one schedule (quote a name with spaces): \`${escapeMrkdwn(usageOf('oncall'))}\``);
      }
      case 'incidents': {
        const filter = (rest[0] ?? 'open').toLowerCase();
        if (rest.length > 1 || (filter !== 'open' && filter !== 'mine')) return invalid('incidents', `\`${escapeMrkdwn(usageOf('incidents'))}\``);
        return { name: 'incidents', filter };
      }
      case 'ack':
      case 'acknowledge':
        return parseTarget('ack', rest);
      case 'resolve':
        return parseTarget('resolve', rest);
      case 'silence':
        return parseSilence(rest, comment, opts.silenceMaxMs ?? SLASH_SILENCE_MAX_MS);
      case 'silences':
        return rest.length === 0 ? { name: 'silences' } : invalid('silences', '`silences` takes no arguments');
      case 'unsilence':
      case 'expire':
        if (rest.length !== 1) return invalid('unsilence', `name one silence: \`${escapeMrkdwn(usageOf('unsilence'))}\``);
        // A silence's id is at most SILENCE_ID_MAX characters: a longer one names none (and could not be recorded).
        if (rest[0]!.length > SILENCE_ID_MAX) return invalid('unsilence', `a silence id is at most ${SILENCE_ID_MAX} characters; the \`silences\` command lists them`);
        return { name: 'unsilence', silenceId: rest[0]! };
      default:
        return { name: 'unknown', word: first };
    }
  })();
  return { command, public: isPublic };
}

/** An incident id as alertbus derives them (deriveId: UUID-shaped), as opposed to an alias. */
export function looksLikeIncidentId(text: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text);
}

/**
 * The `targetProblem` of an incident id the history API does not know. Any other problem means it could not be
 * looked up (the history API down, or not configured): the incident may well exist, and the answer says how to act
 * on it without the lookup.
 */
export const NO_SUCH_INCIDENT = 'no incident has that id';

/** The incident id an `ack` / `resolve` names (for ingest to look up its alias), else undefined. */
export function slashIncidentId(text: string): string | undefined {
  const { command } = parseSlash(text);
  return (command.name === 'ack' || command.name === 'resolve') && looksLikeIncidentId(command.target) ? command.target : undefined;
}

/**
 * The Kafka key of a slash command: the incident it acts on (its alias as typed, or the alias of the incident id
 * typed, when ingest found it), so it meets that incident's state; else a key of its own.
 */
export function slashKey(text: string, team: string, requestId: string, incidentAlias?: string): string {
  // Only `ack` and `resolve` are keyed by what they name. Nothing else is parsed here: ingest keys every command before
  // anyone has checked who may run it, and a silence's matchers are compiled by the router, after that check.
  const first = words(plainQuotes(unescapeSlack(text)).trim()).find((w) => w !== '--public')?.toLowerCase();
  if (first !== 'ack' && first !== 'acknowledge' && first !== 'resolve') return `slack-slash:${team}:${requestId}`;
  const { command } = parseSlash(text);
  if (command.name !== 'ack' && command.name !== 'resolve') return `slack-slash:${team}:${requestId}`;
  if (looksLikeIncidentId(command.target)) return incidentAlias ?? `slack-slash:${team}:${requestId}`;
  return command.target;
}

/** The answer to `help`: every subcommand, for the command name Slack used. */
export function slashHelpText(command: string): string {
  const name = escapeMrkdwn(command);
  const lines = SLASH_USAGE.map(([u, what]) => `• \`${name} ${escapeMrkdwn(u)}\` — ${what}`);
  return [`*${name}* commands:`, ...lines, 'Add `--public` to show the answer in the channel.'].join('\n');
}
