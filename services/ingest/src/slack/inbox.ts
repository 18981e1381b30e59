/**
 * What becomes of a Slack event or interaction once it is known to come from Slack, whichever way it came
 * (a signed HTTP request, or a Socket Mode envelope): normalised, written to Kafka (acks=all), answered.
 * Failures are HttpErrors: 4xx for what no redelivery can fix, 503 for "not written, try again".
 */
import { keepableText, type Logger } from '@alertbus/common';
import {
  normaliseInteraction,
  normaliseSlackEvent,
  responseUrlHost,
  responseUrlOrigins,
  responseUrlProblem,
  type ResponseUrlOrigins,
  type BotIdentity,
  type SlackEventCallbackWire,
  type SlackEventsBody,
  type SlackInteractionBody,
} from '@alertbus/normalise';
import { namedIncidentCommand, namedIncidentId } from '@alertbus/routing';
import { deriveId, makeEnvelope } from '@alertbus/schemas';
import type { InstallationStore, TeamTokens } from '@alertbus/slack-installs';
import { writeEvents, type AcceptDeps } from '../accept';
import { HttpError } from '../http-error';
import type { SlackMetrics } from '../metrics';
import type { SlackAcceptedBody } from '../responses';
import type { IdentitySource } from './identity';
import type { UserGroupSource } from './user-groups';
import { lookupBudgetMs, NO_INCIDENT_LOOKUP, type IncidentLookup } from './incident-lookup';
import type { UserNameSource } from './user-names';

export interface SlackInboxDeps {
  accept: AcceptDeps;
  /** The app's own identity in the SLACK_BOT_TOKEN workspace (or configured ids). */
  identity?: IdentitySource;
  /** Workspaces installed through OAuth: their bot's ids, so the app's messages there are dropped too. */
  tokens?: TeamTokens;
  /** Where an uninstall removes the team's token (OAuth installs configured). */
  installs?: Pick<InstallationStore, 'remove'>;
  /** Resolves the requester's name (users.info) with the team's token; without it events carry the user id only. */
  userNames?: UserNameSource;
  /** The user groups of who wrote or clicked (for `permissions:`); without it inputs carry no groups. */
  userGroups?: UserGroupSource;
  /** Whether the rules give roles to user groups (ROUTING_RULES' permissions.groups); otherwise Slack is not asked. */
  userGroupsWanted?: () => boolean;
  /** SLACK_COMMAND: the slash command this app answers (default /alertbus). */
  slashCommand?: string;
  /** SLACK_ALLOWED_TEAMS: requests from other workspaces are answered and not recorded; unset: every workspace. */
  allowedTeams?: ReadonlySet<string>;
  /** The alias of an incident id typed in `/alertbus ack <id>` (the history API, HISTORY_URL). */
  incidents?: IncidentLookup;
  /** Where a response_url may point (responseUrlOrigins(SLACK_API_URL)); default Slack's hosts alone. */
  responseUrlOrigins?: ResponseUrlOrigins;
  /** How long a Slack event waits for its turn at Kafka (Slack wants an answer within 3 s). */
  ackTimeoutMs: number;
  metrics: SlackMetrics;
  log: Logger;
}

/** What Slack told about the delivery besides the body. */
export interface DeliveryFacts {
  retryNum?: number;
  retryReason?: string;
  /** Characters keepableJson cleaned in the body. */
  sanitised?: number;
}

/** Events that end an installation: its token no longer works and must not be kept. */
const UNINSTALL_EVENTS: ReadonlySet<string> = new Set(['app_uninstalled', 'tokens_revoked']);

const sanitisedField = (facts: DeliveryFacts) => (facts.sanitised ? { sanitised: facts.sanitised } : {});

/** Whether requests from `team` may be recorded: SLACK_ALLOWED_TEAMS unset, or it names the team. */
export function teamAllowed(deps: Pick<SlackInboxDeps, 'allowedTeams'>, team: string | undefined): boolean {
  return deps.allowedTeams === undefined || (team !== undefined && deps.allowedTeams.has(team));
}

function teamOf(body: SlackEventCallbackWire): string | undefined {
  return body.team_id || body.authorizations?.[0]?.team_id || undefined;
}

/** The app's bot in the event's workspace: the OAuth installation's, else the configured one. */
async function identityFor(deps: SlackInboxDeps, team: string | undefined): Promise<BotIdentity | undefined> {
  const global = deps.identity?.current();
  const installed = team && deps.tokens ? await deps.tokens.forTeam(team).catch(() => undefined) : undefined;
  if (installed?.source === 'installed' && (installed.botUserId || installed.botId)) {
    return { userId: installed.botUserId, botId: installed.botId, workspaceUrl: undefined };
  }
  return global;
}

/**
 * The installation ends where Slack said so, at once and not through Kafka: the token is a secret that must
 * never be written to a topic, so the table is not a projection of one, and an uninstall replayed later
 * would wrongly remove a reinstall. Only installations older than the event are removed, for the same reason.
 */
async function uninstall(deps: SlackInboxDeps, body: SlackEventCallbackWire, type: string): Promise<SlackAcceptedBody> {
  const team = teamOf(body);
  const inner = body.event as { tokens?: { bot?: unknown[] } } | undefined;
  // tokens_revoked also tells of user tokens; alertbus holds only the bot's.
  const botRevoked = type === 'app_uninstalled' || (Array.isArray(inner?.tokens?.bot) && inner!.tokens!.bot!.length > 0);
  if (!team || !deps.installs || !botRevoked) return { accepted: 0, ids: [], aliases: [], ignored: type };
  const at = typeof body.event_time === 'number' ? new Date(body.event_time * 1000) : deps.accept.now();
  try {
    const removed = await deps.installs.remove(team, at);
    deps.tokens?.forget(team);
    deps.log.info({ team, event: type, removed }, removed ? 'Slack installation removed: its token is deleted' : 'Slack uninstall for a team with no newer installation here');
  } catch (err) {
    throw new HttpError(503, 'store_unavailable', `could not remove the installation of team ${team}: ${(err as Error).message}`);
  }
  deps.metrics.requests.inc({ endpoint: 'events', outcome: 'uninstalled' });
  return { accepted: 0, ids: [], aliases: [], ignored: type };
}

/**
 * The handles of the user groups the actor belongs to, as the input carries them for `permissions:`; undefined
 * when unknown. Never throws: an input is not lost because Slack could not say.
 */
export async function actorGroups(deps: Pick<SlackInboxDeps, 'userGroups' | 'userGroupsWanted'>, userId: string, team: string | undefined): Promise<string[] | undefined> {
  if (!deps.userGroups || deps.userGroupsWanted?.() === false) return undefined;
  const groups = await deps.userGroups.groups(userId, team).catch(() => undefined);
  return groups?.slice(0, 500).map((g) => keepableText(g).value.slice(0, 100)).filter((g) => g.length > 0);
}

/** One Events API body (event_callback, app_rate_limited, …) → at most one SlackMessageReceived on Kafka. */
export async function receiveSlackEvent(deps: SlackInboxDeps, body: SlackEventsBody, facts: DeliveryFacts = {}): Promise<SlackAcceptedBody> {
  const startedAt = performance.now();
  const { accept, metrics } = deps;
  const count = (outcome: string) => metrics.requests.inc({ endpoint: 'events', outcome });
  if (body.type === 'app_rate_limited') {
    metrics.rateLimited.inc();
    count('app-rate-limited');
    deps.log.warn({ team: body.team_id, minuteRateLimited: body.minute_rate_limited }, 'Slack rate-limited this app\'s events (app_rate_limited)');
    return { accepted: 0, ids: [], aliases: [], ignored: 'app_rate_limited' };
  }
  if (body.type !== 'event_callback') {
    count('ignored');
    deps.log.debug({ type: body.type }, 'Slack request type not used by alertbus');
    return { accepted: 0, ids: [], aliases: [], ignored: `type ${body.type}` };
  }
  const innerType = body.event?.type;
  if (innerType && UNINSTALL_EVENTS.has(innerType)) return uninstall(deps, body, innerType);

  const team = teamOf(body);
  if (!teamAllowed(deps, team)) {
    // Answered 200 (Slack would retry anything else) and not recorded: its users may not act on these incidents.
    count('team-not-allowed');
    deps.log.warn({ team }, 'Slack event from a workspace not in SLACK_ALLOWED_TEAMS: not recorded');
    return { accepted: 0, ids: [], aliases: [], ignored: 'team not in SLACK_ALLOWED_TEAMS' };
  }
  const identity = await identityFor(deps, team);
  if (!identity) {
    count('not-ready');
    throw new HttpError(503, 'slack_not_ready', deps.identity?.problem() ?? "the app's own Slack identity is not known");
  }
  const recordedAt = accept.now().toISOString();
  const result = normaliseSlackEvent(body, { identity, retryNum: facts.retryNum, retryReason: facts.retryReason, recordedAt });
  if (result.outcome === 'invalid') throw new HttpError(400, 'invalid_payload', result.message);
  if (result.outcome === 'ignored') {
    count(result.reason);
    deps.log.debug({ eventId: body.event_id, reason: result.reason }, result.detail);
    return { accepted: 0, ids: [], aliases: [], ignored: result.reason };
  }
  const user = result.data.user;
  // `ack|resolve <incident id>`: its alias asked of the history API (bounded), beside the user's name and groups.
  const byId = namedIncidentId(result.data);
  const [userName, userGroups, found] = await Promise.all([
    user && deps.userNames ? deps.userNames.name(user, result.data.team) : undefined,
    user ? actorGroups(deps, user, result.data.team) : undefined,
    byId ? (deps.incidents ? deps.incidents.aliasOf(byId.incidentId, { timeoutMs: lookupBudgetMs(deps.ackTimeoutMs, startedAt) }) : { problem: NO_INCIDENT_LOOKUP }) : undefined,
  ]);
  const target = byId && found && 'alias' in found ? { incidentId: byId.incidentId, alias: found.alias } : undefined;
  // `ack|resolve <alias>` (or an incident id found) by mention or DM: keyed by that alias, where the router holds its
  // incident (as a slash command is), with an id derived from the message so Slack's redeliveries and a DM's twin are
  // taken once. An id not found stays under the message's own key, with why.
  const named = namedIncidentCommand({ ...result.data, ...(target ? { target } : {}) });
  const event = makeEnvelope({
    id: named || byId ? deriveId('slack-mention-command', result.data.team, result.data.channel, result.data.ts) : accept.newId(),
    type: 'SlackMessageReceived',
    alias: named?.alias ?? result.alias,
    occurredAt: result.occurredAt ?? recordedAt,
    recordedAt,
    source: 'ingest/slack',
    data: {
      ...result.data,
      ...(userName ? { userName: keepableText(userName).value } : {}),
      ...(userGroups ? { userGroups } : {}),
      ...(target ? { target } : {}),
      ...(found && 'problem' in found ? { targetProblem: found.problem.slice(0, 500) } : {}),
      ...sanitisedField(facts),
    },
  });
  await writeEvents(accept, [event], { what: 'Slack event', timeoutMs: remainingMs(deps.ackTimeoutMs, startedAt), timeoutVariable: 'INGEST_SLACK_TIMEOUT_MS' });
  count('accepted');
  return { accepted: 1, ids: [event.id], aliases: [event.alias] };
}

/**
 * What is left of INGEST_SLACK_TIMEOUT_MS for Kafka once the look-ups before it (the user's name and groups, an
 * incident id) have run: each had its own bound, and added one after the other to the Kafka wait an answer came after
 * Slack's 3 s (3.5 s measured), which Slack counts as a failed delivery and retries. At least 100 ms: a refusal then
 * is a 503 with nothing written, which Slack retries.
 */
export function remainingMs(budgetMs: number, startedAt: number, now = performance.now()): number {
  return Math.max(100, Math.round(budgetMs - (now - startedAt)));
}

const SLACK_ONLY = responseUrlOrigins();

/**
 * Why a request's response_url is not one the slack-sink would post to (undefined: it is), logged once with its host
 * alone (the URL's path is a secret). Only a request made with the app's signing secret or Socket Mode token gets here,
 * so one is a leaked secret at work, or a stand-in SLACK_API_URL does not name.
 */
export function foreignResponseUrl(deps: Pick<SlackInboxDeps, 'responseUrlOrigins' | 'log'>, url: string, what: string, instead: string): string | undefined {
  const problem = responseUrlProblem(url, deps.responseUrlOrigins ?? SLACK_ONLY);
  if (problem !== undefined) deps.log.warn({ responseUrlHost: responseUrlHost(url), problem }, `${what} with a response_url not on Slack's hosts: ${instead}`);
  return problem;
}

/** One interactivity payload (block_actions) → one SlackActionReceived per action on Kafka. */
export async function receiveSlackInteraction(deps: SlackInboxDeps, payload: SlackInteractionBody, facts: DeliveryFacts = {}): Promise<number> {
  const startedAt = performance.now();
  const { accept, metrics } = deps;
  const result = normaliseInteraction(payload);
  if (result.outcome === 'invalid') throw new HttpError(400, 'invalid_payload', result.message);
  if (result.outcome === 'ignored') {
    metrics.requests.inc({ endpoint: 'interactions', outcome: 'ignored' });
    deps.log.debug(result.detail);
    return 0;
  }
  const refused = result.actions.filter((a) => !teamAllowed(deps, a.data.team));
  if (refused.length > 0) {
    metrics.requests.inc({ endpoint: 'interactions', outcome: 'team-not-allowed' });
    deps.log.warn({ team: refused[0]!.data.team }, 'Slack interaction from a workspace not in SLACK_ALLOWED_TEAMS: not recorded');
  }
  const allowed = refused.length > 0 ? result.actions.filter((a) => teamAllowed(deps, a.data.team)) : result.actions;
  if (allowed.length === 0) return 0;
  // The click is recorded without it: any answer to it then goes by chat.postEphemeral, never to that host.
  const url = allowed[0]!.data.responseUrl;
  const foreign = url !== undefined && foreignResponseUrl(deps, url, 'Slack interaction', 'recorded without it, answers go through the Web API') !== undefined;
  const actions = foreign ? allowed.map((a) => ({ ...a, data: withoutResponseUrl(a.data) })) : allowed;
  const recordedAt = accept.now().toISOString();
  const groups = await Promise.all(actions.map((a) => actorGroups(deps, a.data.user.id, a.data.team)));
  const events = actions.map((a, i) =>
    makeEnvelope({
      id: accept.newId(),
      type: 'SlackActionReceived',
      alias: a.alias,
      occurredAt: a.occurredAt ?? recordedAt,
      recordedAt,
      source: 'ingest/slack-interactions',
      data: { ...a.data, ...(groups[i] ? { userGroups: groups[i] } : {}), ...sanitisedField(facts) },
    }),
  );
  await writeEvents(accept, events, { what: 'Slack action', timeoutMs: remainingMs(deps.ackTimeoutMs, startedAt), timeoutVariable: 'INGEST_SLACK_TIMEOUT_MS' });
  metrics.requests.inc({ endpoint: 'interactions', outcome: 'accepted' });
  return events.length;
}

/** A click's facts without its response_url, in the parsed field and in the payload kept as `raw` alike. */
function withoutResponseUrl<D extends { responseUrl?: string; raw?: unknown }>(data: D): Omit<D, 'responseUrl'> {
  const { responseUrl: _dropped, ...rest } = data;
  const raw = rest.raw;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || !('response_url' in raw)) return rest;
  const { response_url: _alsoDropped, ...keptRaw } = raw as Record<string, unknown>;
  return { ...rest, raw: keptRaw };
}
