/**
 * Installs into several workspaces (Slack OAuth v2): GET /slack/install sends the browser to Slack's consent
 * page with the app's scopes and a signed state; GET /slack/oauth_redirect checks that state, trades the code
 * for the workspace's bot token (oauth.v2.access) and keeps it in Postgres, encrypted.
 */
import { Type, type Static } from '@sinclair/typebox';
import { LogLevel, WebClient } from '@slack/web-api';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { scrubSecrets } from '@alertbus/common';
import { SLACK_BOT_SCOPES, type Installation, type InstallationStore, type TeamTokens } from '@alertbus/slack-installs';
import { OAUTH_STATE_TTL_MS, type OAuthState } from '../slack/oauth-state';

export interface OAuthRouteDeps {
  clientId: string;
  clientSecret: string;
  /** The redirect URL registered with Slack; unset → not sent (Slack then uses the app's only one). */
  redirectUrl?: string;
  /** Web API base URL ending in `/`; Slack's authorize page is `../oauth/v2/authorize` from it. */
  apiUrl: string;
  store: Pick<InstallationStore, 'save'>;
  tokens?: TeamTokens;
  state: OAuthState;
  now: () => Date;
  /** Per call to Slack during the redirect. */
  timeoutMs?: number;
  /** SLACK_ALLOWED_TEAMS: installs into other workspaces are refused; unset: any workspace may install. */
  allowedTeams?: ReadonlySet<string>;
}

export const INSTALL_PATH = '/slack/install';
export const REDIRECT_PATH = '/slack/oauth_redirect';
const COOKIE = 'alertbus_slack_oauth';

const RedirectQuery = Type.Object(
  { code: Type.Optional(Type.String()), state: Type.Optional(Type.String()), error: Type.Optional(Type.String()) },
  { additionalProperties: true },
);
type RedirectQuery = Static<typeof RedirectQuery>;

/** Slack's consent page for this Web API base (https://slack.com/api/ → https://slack.com/oauth/v2/authorize). */
export function authorizeUrl(apiUrl: string): URL {
  return new URL('../oauth/v2/authorize', apiUrl);
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(reply: FastifyReply, status: number, title: string, text: string) {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`);
}

function cookieValue(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

const secure = (req: FastifyRequest) => req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https';

interface AccessAnswer {
  access_token?: string;
  token_type?: string;
  scope?: string;
  bot_user_id?: string;
  app_id?: string;
  team?: { id?: string; name?: string } | null;
  enterprise?: { id?: string } | null;
  is_enterprise_install?: boolean;
  authed_user?: { id?: string };
}

export const oauthRoutes: FastifyPluginAsync<OAuthRouteDeps> = async (app, deps) => {
  const secrets = [deps.clientSecret];
  const web = (token?: string) =>
    new WebClient(token, { slackApiUrl: deps.apiUrl, retryConfig: { retries: 0 }, timeout: deps.timeoutMs ?? 10_000, logLevel: LogLevel.ERROR });

  app.get(INSTALL_PATH, async (req, reply) => {
    const { state, nonce } = deps.state.issue(deps.now().getTime());
    const url = authorizeUrl(deps.apiUrl);
    url.searchParams.set('client_id', deps.clientId);
    url.searchParams.set('scope', SLACK_BOT_SCOPES.join(','));
    url.searchParams.set('state', state);
    if (deps.redirectUrl) url.searchParams.set('redirect_uri', deps.redirectUrl);
    const attrs = [`Path=/slack`, 'HttpOnly', 'SameSite=Lax', `Max-Age=${OAUTH_STATE_TTL_MS / 1000}`, ...(secure(req) ? ['Secure'] : [])];
    return reply.header('set-cookie', `${COOKIE}=${nonce}; ${attrs.join('; ')}`).header('cache-control', 'no-store').redirect(url.toString(), 302);
  });

  app.get<{ Querystring: RedirectQuery }>(REDIRECT_PATH, { schema: { querystring: RedirectQuery } }, async (req, reply) => {
    const q = req.query;
    const check = deps.state.check(q.state, cookieValue(req, COOKIE), deps.now().getTime());
    if (!check.ok) {
      req.log.warn({ reason: check.reason }, 'Slack install redirect refused');
      return page(reply, check.status, 'Installation refused', check.reason);
    }
    reply.header('set-cookie', `${COOKIE}=; Path=/slack; HttpOnly; SameSite=Lax; Max-Age=0`);
    if (q.error) return page(reply, 400, 'Installation cancelled', `Slack says: ${q.error}`);
    if (!q.code) return page(reply, 400, 'Installation failed', 'the redirect carries no code');

    let answer: AccessAnswer;
    try {
      answer = (await web().oauth.v2.access({
        client_id: deps.clientId,
        client_secret: deps.clientSecret,
        code: q.code,
        ...(deps.redirectUrl ? { redirect_uri: deps.redirectUrl } : {}),
      })) as AccessAnswer;
    } catch (err) {
      const e = err as { data?: { error?: string }; message?: string };
      const why = scrubSecrets(e.data?.error ?? e.message ?? 'request failed', secrets);
      req.log.warn({ error: why }, 'oauth.v2.access failed');
      return page(reply, 502, 'Installation failed', `Slack did not accept the install (${why}); start again from ${INSTALL_PATH}`);
    }
    const teamId = answer.team?.id;
    if (answer.is_enterprise_install || !teamId) {
      return page(reply, 400, 'Installation not supported', 'alertbus is installed per workspace; org-wide (Enterprise Grid) installs are not supported');
    }
    if (deps.allowedTeams && !deps.allowedTeams.has(teamId)) {
      // The token Slack just gave is not kept: this workspace's users could otherwise act on every incident.
      req.log.warn({ team: teamId, by: answer.authed_user?.id }, 'install into a workspace not in SLACK_ALLOWED_TEAMS refused');
      return page(reply, 403, 'Installation refused', `this alertbus takes installs from its own workspaces only (SLACK_ALLOWED_TEAMS), not from ${teamId}`);
    }
    if (answer.token_type !== 'bot' || !answer.access_token) {
      return page(reply, 502, 'Installation failed', 'Slack answered without a bot token');
    }
    // auth.test tells the bot id, so the app's own messages in that workspace are recognised; best effort.
    const me = await web(answer.access_token).auth.test().catch(() => undefined);
    const installation: Installation = {
      teamId,
      ...(answer.team?.name ? { teamName: answer.team.name } : {}),
      ...(answer.enterprise?.id ? { enterpriseId: answer.enterprise.id } : {}),
      ...(answer.app_id ? { appId: answer.app_id } : {}),
      ...(answer.bot_user_id ? { botUserId: answer.bot_user_id } : {}),
      ...(me?.bot_id ? { botId: me.bot_id } : {}),
      scopes: (answer.scope ?? '').split(',').filter(Boolean),
      botToken: answer.access_token,
      ...(answer.authed_user?.id ? { installedBy: answer.authed_user.id } : {}),
    };
    try {
      await deps.store.save(installation, deps.now());
    } catch (err) {
      req.log.error({ team: teamId, error: scrubSecrets((err as Error).message, [answer.access_token, ...secrets]) }, 'could not store the Slack installation');
      return page(reply, 503, 'Installation failed', 'the installation could not be stored; try again shortly');
    }
    deps.tokens?.forget(teamId);
    req.log.info({ team: teamId, teamName: answer.team?.name, botUserId: answer.bot_user_id, by: answer.authed_user?.id }, 'alertbus installed in a Slack workspace');
    return page(reply, 200, 'alertbus is installed', `alertbus is now installed in ${answer.team?.name ?? teamId}. Mention it in a channel it is in, or send it a direct message.`);
  });
};
