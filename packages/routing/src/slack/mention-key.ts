/**
 * Where a mention or DM that acts on an incident by name is decided. `ack|acknowledge|resolve <alias>` outside that
 * incident's thread is keyed by the alias it names, as slash commands are (slashKey), so the router meets that
 * incident's state; by incident id, by the alias ingest found for it; every other message keeps its own alias,
 * `slack:{team}:{channel}:{ts}`.
 */
import type { SlackMessageReceived } from '@alertbus/schemas';
import { parseCommand, type ParseOptions } from './commands';
import { looksLikeIncidentId } from './slash';

/** The longest alias an envelope carries: a longer "alias" cannot be one, so its message is answered as before. */
const ALIAS_MAX = 512;

/** What ingest writes in text: Slack's three escapes, undone so `a&b` names the alias `a&b`, as the slash command reads it. */
const unescapeSlack = (text: string) => text.replace(/&(lt|gt|amp);/g, (_, e: string) => (e === 'lt' ? '<' : e === 'gt' ? '>' : '&'));

export interface NamedIncidentCommand {
  readonly command: 'ack' | 'resolve';
  /** The alias it names: the Kafka key ingest writes the message under. */
  readonly alias: string;
  /** By incident id: the id named, found by ingest at `alias`; only that occurrence is acted on. */
  readonly incidentId?: string;
}

type KeyedFields = Pick<SlackMessageReceived, 'kind' | 'team' | 'channel' | 'ts' | 'threadTs' | 'text' | 'target'>;

/** `ack|resolve <target>` by mention or DM, with Slack's escapes undone; else undefined. */
function commandTarget(m: KeyedFields, opts: ParseOptions): { command: 'ack' | 'resolve'; target: string } | undefined {
  if (m.kind !== 'mention' && m.kind !== 'dm') return undefined;
  const cmd = parseCommand(m.text, opts);
  if ((cmd.name !== 'ack' && cmd.name !== 'resolve') || cmd.target === undefined) return undefined;
  return { command: cmd.name, target: unescapeSlack(cmd.target) };
}

/**
 * The incident a mention or DM acts on by name, else undefined. Pure and read from the message alone, so ingest (which
 * keys the record) and the router (which checks the record is keyed so) agree. Not: edits, deletes and plain channel
 * messages (never commands); an incident id unless ingest found its alias (`target`, see namedIncidentId); the alias
 * of the thread it is written in (the thread's own path takes it, as before). An alias in double quotes (straight or
 * smart) is read without them, as the slash command reads it; `opts.quotedTargets: false` is the reading of records
 * written before that (see ParseOptions).
 */
export function namedIncidentCommand(m: KeyedFields, opts: ParseOptions = {}): NamedIncidentCommand | undefined {
  const named = commandTarget(m, opts);
  if (named === undefined) return undefined;
  const { command, target: alias } = named;
  if (looksLikeIncidentId(alias)) {
    // Records written before ingest looked ids up carry no target: keyed by the message, they only say how, as then.
    return m.target !== undefined && m.target.incidentId === alias ? { command, alias: m.target.alias, incidentId: alias } : undefined;
  }
  if (alias.length > ALIAS_MAX) return undefined;
  const own = (ts: string) => `slack:${m.team}:${m.channel}:${ts}`;
  if (alias === own(m.ts) || (m.threadTs !== undefined && alias === own(m.threadTs))) return undefined;
  return { command, alias };
}

/** The incident id an `ack|resolve` by mention or DM names, for ingest to look its alias up (as for the slash command). */
export function namedIncidentId(m: KeyedFields): { command: 'ack' | 'resolve'; incidentId: string } | undefined {
  const named = commandTarget(m, {});
  return named !== undefined && looksLikeIncidentId(named.target) ? { command: named.command, incidentId: named.target } : undefined;
}
