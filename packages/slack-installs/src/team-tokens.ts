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
  /**
   * A look-up that takes longer fails (its answer still fills the cache when it comes): for a caller that must answer
   * within a deadline (ingest has Slack's 3 s). Unset: as long as Postgres takes.
   */
  lookupTimeoutMs?: number;
  /** How long after a failed (or timed-out) look-up the team's next ones fail at once instead of waiting again. Default 5 s. */
  failureTtlMs?: number;
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
  /** Look-ups under way: one per team, however many requests ask meanwhile. */
  private readonly pending = new Map<string, Promise<TeamCredentials | undefined>>();
  /** Teams whose last look-up failed, until when, and why. */
  private readonly failures = new Map<string, { until: number; error: Error }>();
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
    const installed = hit && hit.until > this.now() ? hit.value : await this.lookUp(teamId);
    return installed ?? fallback;
  }

  private async lookUp(teamId: string): Promise<TeamCredentials | undefined> {
    const failed = this.failures.get(teamId);
    if (failed && failed.until > this.now()) throw failed.error;
    let lookup = this.pending.get(teamId);
    if (!lookup) {
      lookup = this.opts.store!.find(teamId).then(
        (row) => {
          const value: TeamCredentials | undefined = row ? { token: row.botToken, source: 'installed', botUserId: row.botUserId, botId: row.botId } : undefined;
          this.cache.set(teamId, { value, until: this.now() + (this.opts.ttlMs ?? 30_000) });
          this.failures.delete(teamId);
          return value;
        },
        (err: unknown) => {
          this.fail(teamId, err instanceof Error ? err : new Error(String(err)));
          throw err;
        },
      );
      const settled = lookup.finally(() => this.pending.delete(teamId));
      settled.catch(() => undefined);
      this.pending.set(teamId, lookup);
    }
    const limit = this.opts.lookupTimeoutMs;
    if (limit === undefined) return lookup;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`the Slack installation of team ${teamId} was not read from Postgres within ${limit} ms`);
        this.fail(teamId, err);
        reject(err);
      }, limit);
    });
    try {
      return await Promise.race([lookup, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(teamId: string, error: Error): void {
    if (this.failures.size >= 10_000) this.failures.clear();
    this.failures.set(teamId, { until: this.now() + (this.opts.failureTtlMs ?? 5_000), error });
  }

  /** Drops what is cached for a team (after it was installed again or uninstalled here). */
  forget(teamId: string): void {
    this.cache.delete(teamId);
    this.failures.delete(teamId);
  }
}
