import type { InstallationStore } from './store';

/** The bot token and bot identity to use for one workspace. */
export interface TeamCredentials {
  token: string;
  /** `installed`: the team's own OAuth token; `default`: SLACK_BOT_TOKEN. */
  source: 'installed' | 'default';
  botUserId?: string;
  botId?: string;
}

export interface TeamTokensOptions {
  /** Absent when OAuth installs are not configured (no SLACK_TOKEN_KEY): only the default token exists. */
  store?: Pick<InstallationStore, 'find'>;
  /** SLACK_BOT_TOKEN: the single-workspace setting, and the fallback for a team not installed through OAuth. */
  defaultToken?: string;
  /** How long a decrypted token (or "not installed") is reused before Postgres is asked again. */
  ttlMs?: number;
  now?: () => number;
}

interface Cached {
  value: TeamCredentials | undefined;
  until: number;
}

/**
 * Which token speaks for a team: its own installation's when it has one, else SLACK_BOT_TOKEN. Decrypted
 * tokens are kept in memory only briefly, so an uninstall takes effect everywhere within the TTL.
 */
export class TeamTokens {
  private readonly cache = new Map<string, Cached>();
  private readonly now: () => number;

  constructor(private readonly opts: TeamTokensOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** True when some team could have a token (a default token, or installs). */
  get configured(): boolean {
    return !!this.opts.defaultToken || !!this.opts.store;
  }

  get defaultToken(): string | undefined {
    return this.opts.defaultToken;
  }

  /** The team's credentials; undefined when neither the team nor a default has a token. */
  async forTeam(teamId: string | undefined): Promise<TeamCredentials | undefined> {
    const fallback = this.opts.defaultToken ? { token: this.opts.defaultToken, source: 'default' as const } : undefined;
    if (!teamId || !this.opts.store) return fallback;
    const hit = this.cache.get(teamId);
    let installed: TeamCredentials | undefined;
    if (hit && hit.until > this.now()) {
      installed = hit.value;
    } else {
      const row = await this.opts.store.find(teamId);
      installed = row ? { token: row.botToken, source: 'installed', botUserId: row.botUserId, botId: row.botId } : undefined;
      this.cache.set(teamId, { value: installed, until: this.now() + (this.opts.ttlMs ?? 30_000) });
    }
    return installed ?? fallback;
  }

  /** Drops what is cached for a team (after it was installed again or uninstalled here). */
  forget(teamId: string): void {
    this.cache.delete(teamId);
  }
}
