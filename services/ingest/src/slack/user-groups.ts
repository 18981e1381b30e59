/**
 * Which Slack user groups a person belongs to, for the rules file's `permissions:`: read from Slack
 * (`usergroups.list` with its members, `usergroups.users.list` for a group listed without them) and kept for a
 * TTL (SLACK_USERGROUPS_TTL). The router is pure, so ingest puts the handles into the input it writes, and a replay
 * decides with what was known then. Slack being slow or away never loses an input: it goes on with the last
 * membership known, or none.
 */
import type { WebClient } from '@slack/web-api';
import { createLogger, slackWebClient, type Logger } from '@alertbus/common';
import type { TeamTokens } from '@alertbus/slack-installs';
import { slackFailure } from './web-error';

export interface UserGroupSource {
  /** The handles of the person's groups; undefined when not known (no token, Slack away with nothing cached). */
  groups(userId: string, team?: string): Promise<string[] | undefined>;
}

export const DEFAULT_USERGROUPS_TTL_MS = 5 * 60_000;
/** How long an input waits for a membership being read (Slack wants its answer within 3 s); then it goes on with the last one. */
export const DEFAULT_USERGROUPS_WAIT_MS = 1_000;
/** After a failed read, how long before Slack is asked again. */
const RETRY_AFTER_FAILURE_MS = 30_000;

export interface SlackUserGroupsOptions {
  apiUrl: string;
  botToken: string;
  ttlMs?: number;
  waitMs?: number;
  /** Per Web API call. */
  timeoutMs?: number;
  now?: () => number;
  log?: Logger;
}

type Membership = ReadonlyMap<string, readonly string[]>;

/** One workspace's groups, by member. */
export class SlackUserGroups implements UserGroupSource {
  private membership: Membership | undefined;
  private freshUntil = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;
  private readonly web: WebClient;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly opts: SlackUserGroupsOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? createLogger('slack-user-groups', 'silent');
    this.web = slackWebClient({ token: opts.botToken, apiUrl: opts.apiUrl, timeoutMs: opts.timeoutMs ?? 5_000, log: this.log });
  }

  async groups(userId: string): Promise<string[] | undefined> {
    if (this.now() >= this.freshUntil) {
      const read = this.refresh();
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.opts.waitMs ?? DEFAULT_USERGROUPS_WAIT_MS);
      });
      await Promise.race([read, waited]);
      clearTimeout(timer);
    }
    const m = this.membership;
    return m ? [...(m.get(userId) ?? [])] : undefined;
  }

  /** Reads the membership now (once at a time); also used at start so the first click does not wait. */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    try {
      const res = await this.web.usergroups.list({ include_users: true });
      const byUser = new Map<string, string[]>();
      for (const g of res.usergroups ?? []) {
        if (!g.id || !g.handle || g.date_delete) continue;
        const users = Array.isArray(g.users) ? g.users : ((await this.web.usergroups.users.list({ usergroup: g.id })).users ?? []);
        for (const u of users) byUser.set(u, [...(byUser.get(u) ?? []), g.handle.toLowerCase()]);
      }
      this.membership = byUser;
      this.freshUntil = this.now() + (this.opts.ttlMs ?? DEFAULT_USERGROUPS_TTL_MS);
    } catch (err) {
      this.freshUntil = this.now() + RETRY_AFTER_FAILURE_MS;
      this.log.warn(
        { error: slackFailure(err, [this.opts.botToken]), stale: this.membership !== undefined },
        'could not read the Slack user groups (needs usergroups:read): inputs go on with the last membership known, or none',
      );
    }
  }
}

/** The groups of the person's own workspace: one SlackUserGroups per bot token (OAuth installs, or SLACK_BOT_TOKEN). */
export class TeamUserGroups implements UserGroupSource {
  private readonly byToken = new Map<string, SlackUserGroups>();

  constructor(
    private readonly tokens: TeamTokens,
    private readonly opts: Omit<SlackUserGroupsOptions, 'botToken'>,
  ) {}

  async groups(userId: string, team?: string): Promise<string[] | undefined> {
    const creds = await this.tokens.forTeam(team).catch(() => undefined);
    if (!creds) return undefined;
    return this.forToken(creds.token).groups(userId);
  }

  /** Starts reading the default workspace's groups, without waiting. */
  warm(): void {
    void this.tokens
      .forTeam(undefined)
      .then((creds) => (creds ? this.forToken(creds.token).refresh() : undefined))
      .catch(() => undefined);
  }

  private forToken(token: string): SlackUserGroups {
    let g = this.byToken.get(token);
    if (!g) {
      g = new SlackUserGroups({ ...this.opts, botToken: token });
      this.byToken.set(token, g);
    }
    return g;
  }
}
