import type { TeamTokens } from '@alertbus/slack-installs';
import { SlackUserNames, type SlackUserNamesOptions, type UserNameSource } from './user-names';

/**
 * Requester names asked of the requester's own workspace: one cached SlackUserNames per bot token, the token
 * being the team's OAuth installation's or SLACK_BOT_TOKEN.
 */
export class TeamUserNames implements UserNameSource {
  private readonly byToken = new Map<string, SlackUserNames>();

  constructor(
    private readonly tokens: TeamTokens,
    private readonly opts: Omit<SlackUserNamesOptions, 'botToken'>,
  ) {}

  async name(userId: string, team?: string): Promise<string | undefined> {
    const creds = await this.tokens.forTeam(team).catch(() => undefined);
    if (!creds) return undefined;
    let names = this.byToken.get(creds.token);
    if (!names) {
      names = new SlackUserNames({ ...this.opts, botToken: creds.token });
      this.byToken.set(creds.token, names);
    }
    return names.name(userId);
  }
}
