import type { Logger } from '@alertbus/common';
import type { TeamTokens } from '@alertbus/slack-installs';
import { SlackClient } from './client';
import { RateGate } from './rate-gate';

/** A Web API client for a workspace, and the on-call cache's key for it ('' = the SLACK_BOT_TOKEN workspace). */
export interface TeamClient {
  client: SlackClient;
  cacheTeam: string;
}

export interface ClientSource {
  /** The client for the command's team (its installation's token, else SLACK_BOT_TOKEN); undefined: no token at all. */
  forTeam(teamId: string | undefined): Promise<TeamClient | undefined>;
}

/**
 * One SlackClient per bot token (each keeps its own workspace's channel ids), picked by team. A token that
 * changed (reinstall) gets a new client; the old one is simply no longer used.
 */
export class TeamClients implements ClientSource {
  private readonly byToken = new Map<string, SlackClient>();
  /** Slack's rate limits are per workspace: one gate per team, whichever of its tokens the call is made with. */
  private readonly gates = new Map<string, RateGate>();

  constructor(
    private readonly tokens: TeamTokens,
    /** `soleToken`: no OAuth installations, SLACK_BOT_TOKEN speaks for every command (see SlackClientOptions.tokenRefusalWaits). */
    private readonly opts: { apiUrl: string; timeoutMs: number; log: Logger; soleToken?: boolean },
  ) {}

  async forTeam(teamId: string | undefined): Promise<TeamClient | undefined> {
    const creds = await this.tokens.forTeam(teamId);
    if (!creds) return undefined;
    let client = this.byToken.get(creds.token);
    if (!client) {
      const tokenRefusalWaits = this.opts.soleToken === true && creds.source === 'default';
      const team = creds.source === 'installed' ? teamId! : '';
      let rateGate = this.gates.get(team);
      if (!rateGate) this.gates.set(team, (rateGate = new RateGate()));
      client = new SlackClient({ token: creds.token, apiUrl: this.opts.apiUrl, timeoutMs: this.opts.timeoutMs, log: this.opts.log, tokenRefusalWaits, rateGate });
      this.byToken.set(creds.token, client);
    }
    return { client, cacheTeam: creds.source === 'installed' ? teamId! : '' };
  }
}

/** A single fixed client (SLACK_BOT_TOKEN only, and tests). */
export function fixedClient(client: SlackClient | undefined): ClientSource {
  return { forTeam: async () => (client ? { client, cacheTeam: '' } : undefined) };
}
