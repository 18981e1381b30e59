/**
 * Slack's OAuth v2 install flow, as far as a test needs it: the authorize page (which here redirects at once,
 * as if someone of the chosen workspace had clicked "Allow") and `oauth.v2.access`, which trades the code for
 * a bot token of that workspace. Every minted token is then accepted by the Web API, and calls made with it
 * are recorded with its team.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SlackApiError, str, type Args } from './args';
import { SLACK_STAND_IN_BOT, type SlackState, type SlackTeam } from './state';

export interface SlackOAuthOptions {
  clientId: string;
  clientSecret: string;
}

export const SLACK_STAND_IN_OAUTH: SlackOAuthOptions = { clientId: 'stand-in-client-id', clientSecret: 'stand-in-client-secret' };

/** The workspace a test installs into: its id, and by default a bot user and bot id derived from it. */
export function standInTeam(teamId: string, teamName?: string): SlackTeam {
  const suffix = teamId.replace(/^T/, '');
  return { teamId, teamName: teamName ?? teamId.toLowerCase(), botUserId: `U0BOT${suffix}`, botId: `B0BOT${suffix}` };
}

function basicCredentials(header: string | undefined): { id?: string; secret?: string } {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return {};
  const [id, secret] = Buffer.from(m[1]!, 'base64').toString('utf8').split(':');
  return { id, secret };
}

/** oauth.v2.access: client credentials (form or Basic) + a code the authorize page issued → a new bot token. */
export function oauthAccess(args: Args, authorization: string | undefined, state: SlackState, opts: SlackOAuthOptions): Record<string, unknown> {
  const basic = basicCredentials(authorization);
  const clientId = str(args, 'client_id') ?? basic.id;
  const clientSecret = str(args, 'client_secret') ?? basic.secret;
  if (clientId !== opts.clientId) throw new SlackApiError('invalid_client_id');
  if (clientSecret !== opts.clientSecret) throw new SlackApiError('bad_client_secret');
  const code = str(args, 'code');
  const grant = code === undefined ? undefined : state.oauthCodes.get(code);
  if (!grant) throw new SlackApiError('invalid_code');
  state.oauthCodes.delete(code!); // a code is good for one exchange
  const redirectUri = str(args, 'redirect_uri');
  if (grant.redirectUri !== undefined && redirectUri !== grant.redirectUri) throw new SlackApiError('bad_redirect_uri');
  const token = `xoxb-${grant.team.teamId}-${randomBytes(9).toString('hex')}`;
  state.teamsByToken.set(token, grant.team);
  return {
    access_token: token,
    token_type: 'bot',
    scope: grant.scope,
    bot_user_id: grant.team.botUserId,
    app_id: SLACK_STAND_IN_BOT.appId,
    team: { id: grant.team.teamId, name: grant.team.teamName },
    enterprise: null,
    is_enterprise_install: false,
    authed_user: { id: grant.userId },
  };
}

/**
 * GET /oauth/v2/authorize: Slack's consent page. `team` (a stand-in extra, default the stand-in's own team)
 * says which workspace "clicks Allow"; the answer is the redirect back with `code` and the untouched `state`.
 */
export function registerAuthorizePage(app: FastifyInstance, state: SlackState, opts: SlackOAuthOptions): void {
  app.get<{ Querystring: Record<string, string | undefined> }>('/oauth/v2/authorize', async (req, reply) => {
    const q = req.query;
    if (q.client_id !== opts.clientId) return reply.code(400).type('text/plain').send('invalid_client_id');
    if (!q.redirect_uri) return reply.code(400).type('text/plain').send('redirect_uri is required by the stand-in');
    const team = standInTeam(q.team ?? SLACK_STAND_IN_BOT.teamId, q.team_name);
    const code = `code-${randomBytes(12).toString('hex')}`;
    state.oauthCodes.set(code, { team, scope: q.scope ?? '', userId: q.user ?? 'U0INSTALLER', redirectUri: q.redirect_uri });
    const target = new URL(q.redirect_uri);
    target.searchParams.set('code', code);
    if (q.state !== undefined) target.searchParams.set('state', q.state);
    return reply.redirect(target.toString(), 302);
  });
}
