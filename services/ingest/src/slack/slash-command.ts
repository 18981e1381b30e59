/**
 * A slash command, whichever way it came (a signed POST /slack/commands, or a slash_commands Socket Mode
 * envelope): one SlackSlashCommandReceived on Kafka (acks=all), keyed where the router decides it, then
 * answered. The answer itself comes later, at the command's response_url, from the slack-sink.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SLACK_COMMAND } from '@alertbus/common';
import { deriveId, makeEnvelope } from '@alertbus/schemas';
import { slashIncidentId, slashKey } from '@alertbus/routing';
import { Type, type Static } from '@sinclair/typebox';
import { writeEvents } from '../accept';
import { HttpError } from '../http-error';
import { actorGroups, foreignResponseUrl, remainingMs, teamAllowed, type SlackInboxDeps, type DeliveryFacts } from './inbox';
import { lookupBudgetMs, NO_INCIDENT_LOOKUP } from './incident-lookup';


/** The form fields of a slash command (Slack sends more; they are kept in `raw`). */
export const SlashCommandFields = Type.Object(
  {
    command: Type.String({ minLength: 1, maxLength: 100 }),
    text: Type.Optional(Type.String({ maxLength: 4000 })),
    team_id: Type.String({ minLength: 1, maxLength: 100 }),
    channel_id: Type.String({ minLength: 1, maxLength: 100 }),
    user_id: Type.String({ minLength: 1, maxLength: 100 }),
    user_name: Type.Optional(Type.String({ maxLength: 200 })),
    response_url: Type.String({ minLength: 1, maxLength: 2000 }),
    trigger_id: Type.Optional(Type.String({ maxLength: 200 })),
    api_app_id: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: Type.String({ maxLength: 4000 }) },
);
export type SlashCommandFields = Static<typeof SlashCommandFields>;

/** What Slack shows the person at once: nothing (the answer follows at the response_url), or why there will be none. */
export type SlashAnswer = { response_type: 'ephemeral'; text: string } | undefined;

function checkResponseUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HttpError(400, 'invalid_payload', 'response_url is not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new HttpError(400, 'invalid_payload', 'response_url is not an http(s) URL');
}

/**
 * The event id: Slack's trigger_id (one per invocation) with the team, else a hash of the fields, so a
 * redelivery of one command is one event and the router takes it once.
 */
function requestId(f: SlashCommandFields): string {
  if (f.trigger_id) return f.trigger_id;
  const sorted = Object.keys(f)
    .sort()
    .map((k) => [k, (f as Record<string, string | undefined>)[k]]);
  return `sha256:${createHash('sha256').update(JSON.stringify(sorted)).digest('hex')}`;
}

export async function receiveSlashCommand(deps: SlackInboxDeps, f: SlashCommandFields, facts: DeliveryFacts & { via: 'http' | 'socket-mode' }): Promise<SlashAnswer> {
  const startedAt = performance.now();
  const count = (outcome: string) => deps.metrics.requests.inc({ endpoint: 'commands', outcome });
  const ours = deps.slashCommand ?? DEFAULT_SLACK_COMMAND;
  if (f.command !== ours) {
    count('other-command');
    deps.log.warn({ command: f.command }, 'slash command for another command name (SLACK_COMMAND)');
    return {
      response_type: 'ephemeral',
      text: `This app answers ${ours}, not ${f.command.replace(/[&<>]/g, '')}: check the command's name in the app's settings, or SLACK_COMMAND.`,
    };
  }
  if (!teamAllowed(deps, f.team_id)) {
    count('team-not-allowed');
    deps.log.warn({ team: f.team_id }, 'slash command from a workspace not in SLACK_ALLOWED_TEAMS: not recorded');
    return { response_type: 'ephemeral', text: `This workspace (${f.team_id.replace(/[&<>]/g, '')}) may not use alertbus here: its team id is not in SLACK_ALLOWED_TEAMS.` };
  }
  checkResponseUrl(f.response_url);
  // Recorded all the same (the command is the person's, and the event needs the URL): the slack-sink, which checks it
  // again, answers through the Web API instead of posting there.
  foreignResponseUrl(deps, f.response_url, 'slash command', 'recorded, its answer goes through the Web API');
  const text = f.text ?? '';
  const rid = requestId(f);
  // `ack <incident id>`: keyed by the incident's alias, found in the history API (a failure is recorded and answered).
  const incidentId = slashIncidentId(text);
  // The person's user groups, for the rules file's `permissions:` (read beside the incident lookup).
  const [found, userGroups] = await Promise.all([
    incidentId
      ? deps.incidents
        ? deps.incidents.aliasOf(incidentId, { timeoutMs: lookupBudgetMs(deps.ackTimeoutMs, startedAt) })
        : { problem: NO_INCIDENT_LOOKUP }
      : undefined,
    actorGroups(deps, f.user_id, f.team_id),
  ]);
  const target = incidentId && found && 'alias' in found ? { incidentId, alias: found.alias } : undefined;
  const recordedAt = deps.accept.now().toISOString();
  const event = makeEnvelope({
    id: deriveId('slack-slash', f.team_id, rid),
    type: 'SlackSlashCommandReceived',
    alias: slashKey(text, f.team_id, rid, target?.alias),
    occurredAt: recordedAt,
    recordedAt,
    source: 'ingest/slack-commands',
    data: {
      command: f.command,
      text,
      team: f.team_id,
      channel: f.channel_id,
      user: f.user_id,
      ...(f.user_name ? { userName: f.user_name } : {}),
      ...(userGroups ? { userGroups } : {}),
      responseUrl: f.response_url,
      ...(f.trigger_id ? { triggerId: f.trigger_id } : {}),
      ...(f.api_app_id ? { apiAppId: f.api_app_id } : {}),
      via: facts.via,
      ...(target ? { target } : {}),
      ...(found && 'problem' in found ? { targetProblem: found.problem } : {}),
      ...(facts.sanitised ? { sanitised: facts.sanitised } : {}),
      // The verification token is a (legacy) secret: it is not kept.
      raw: Object.fromEntries(Object.entries(f).filter(([k]) => k !== 'token')),
    },
  });
  await writeEvents(deps.accept, [event], { what: 'Slack slash command', timeoutMs: remainingMs(deps.ackTimeoutMs, startedAt), timeoutVariable: 'INGEST_SLACK_TIMEOUT_MS' });
  count('accepted');
  return undefined;
}
