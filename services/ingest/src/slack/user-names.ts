import type { WebClient } from '@slack/web-api';
import { createLogger, slackWebClient, type Logger } from '@alertbus/common';

export interface UserNameSource {
  /** The person's display name, or undefined when it cannot be had quickly (the event goes on without it). */
  name(userId: string, team?: string): Promise<string | undefined>;
}

export interface SlackUserNamesOptions {
  apiUrl: string;
  botToken: string;
  /** How long a name is kept; people rarely rename themselves. */
  ttlMs?: number;
  /** Slack wants its answer within 3 s, so a slow users.info is given up on. */
  timeoutMs?: number;
  now?: () => number;
  /** For the Web API client's own lines (debug); silent when not given. */
  log?: Logger;
}

interface Cached {
  name: string | undefined;
  until: number;
}

/**
 * Requester names for Slack requests, from `users.info` (scope `users:read`), cached by user id so a burst of
 * mentions costs one call per person; failures are cached briefly and never fail the request.
 */
export class SlackUserNames implements UserNameSource {
  private readonly cache = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  private readonly now: () => number;
  private readonly web: WebClient;

  constructor(private readonly opts: SlackUserNamesOptions) {
    this.now = opts.now ?? Date.now;
    this.web = slackWebClient({
      token: opts.botToken,
      apiUrl: opts.apiUrl,
      timeoutMs: opts.timeoutMs ?? 800,
      log: opts.log ?? createLogger('slack-user-names', 'silent'),
    });
  }

  async name(userId: string): Promise<string | undefined> {
    const hit = this.cache.get(userId);
    if (hit && hit.until > this.now()) return hit.name;
    let pending = this.inFlight.get(userId);
    if (!pending) {
      pending = this.fetchName(userId).finally(() => this.inFlight.delete(userId));
      this.inFlight.set(userId, pending);
    }
    return pending;
  }

  private async fetchName(userId: string): Promise<string | undefined> {
    let name: string | undefined;
    let ttl = this.opts.ttlMs ?? 3_600_000;
    try {
      const u = (await this.web.users.info({ user: userId })).user;
      if (u) name = u.profile?.display_name || u.profile?.real_name || u.real_name || u.name || undefined;
      else ttl = 60_000;
    } catch {
      // Unknown user, wrong token, Slack slow or away: the event goes on with the id only, and nothing is logged.
      ttl = 60_000;
    }
    this.cache.set(userId, { name, until: this.now() + ttl });
    return name;
  }
}
