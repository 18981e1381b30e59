import type { Pool } from '@alertbus/common';

/** One schedule's on-call people as found at `fetchedAt`. */
export interface OnCallPeople {
  schedule: string;
  /** Opsgenie usernames (emails), in Opsgenie's order. */
  emails: string[];
  /** Slack users found for those emails. */
  slackUserIds: string[];
  /** Emails with no (active) Slack user. */
  unmatchedEmails: string[];
  fetchedAt: Date;
}

/**
 * On-call lookups kept in Postgres with a TTL, keyed by schedule: shared by every sink instance, so one
 * "cache clear" empties it for all of them, and it survives restarts.
 */
export class OnCallCache {
  constructor(private readonly pool: Pool) {}

  /** The cached entry of a workspace ('' = the SLACK_BOT_TOKEN one) when it is younger than `ttlMs` at `now`. */
  async get(schedule: string, now: Date, ttlMs: number, team = ''): Promise<OnCallPeople | undefined> {
    if (ttlMs <= 0) return undefined;
    return this.read(schedule, team, new Date(now.getTime() - ttlMs));
  }

  /** The last entry found for the schedule, however old (the TTL passed): what to fall back on while Opsgenie is down. */
  async lastKnown(schedule: string, team = ''): Promise<OnCallPeople | undefined> {
    return this.read(schedule, team, new Date(0));
  }

  private async read(schedule: string, team: string, after: Date): Promise<OnCallPeople | undefined> {
    const { rows } = await this.pool.query<{
      emails: string[];
      slack_user_ids: string[];
      unmatched_emails: string[];
      fetched_at: Date;
    }>(
      `SELECT emails, slack_user_ids, unmatched_emails, fetched_at FROM oncall_cache
        WHERE schedule = $1 AND fetched_at > $2 AND team = $3`,
      [schedule, after, team],
    );
    const r = rows[0];
    if (!r) return undefined;
    return { schedule, emails: r.emails, slackUserIds: r.slack_user_ids, unmatchedEmails: r.unmatched_emails, fetchedAt: r.fetched_at };
  }

  async put(people: OnCallPeople, team = ''): Promise<void> {
    await this.pool.query(
      `INSERT INTO oncall_cache (schedule, emails, slack_user_ids, unmatched_emails, fetched_at, team)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (team, schedule) DO UPDATE SET emails = $2, slack_user_ids = $3, unmatched_emails = $4, fetched_at = $5
         WHERE oncall_cache.fetched_at <= $5`,
      [
        people.schedule,
        JSON.stringify(people.emails),
        JSON.stringify(people.slackUserIds),
        JSON.stringify(people.unmatchedEmails),
        people.fetchedAt,
        team,
      ],
    );
  }

  /** Empties the cache (or one schedule's entries), in every workspace; returns the schedules removed, sorted. */
  async clear(schedule?: string): Promise<string[]> {
    const { rows } =
      schedule === undefined
        ? await this.pool.query<{ schedule: string }>('DELETE FROM oncall_cache RETURNING schedule')
        : await this.pool.query<{ schedule: string }>('DELETE FROM oncall_cache WHERE schedule = $1 RETURNING schedule', [schedule]);
    return [...new Set(rows.map((r) => r.schedule))].sort();
  }
}
