import { DeliveryError, type Counter, type Logger } from '@alertbus/common';
import type { SlackClient } from '../client';
import type { OnCallCache, OnCallPeople } from './cache';
import type { OnCallProvider } from './opsgenie';

export interface OnCallResolverDeps {
  /** Absent when no Opsgenie key is configured: every lookup then fails permanently, saying so. */
  provider?: OnCallProvider;
  /** The SLACK_BOT_TOKEN workspace's client, used when a lookup names none (the user group job). */
  slack?: SlackClient;
  cache: OnCallCache;
  ttlMs: number;
  now?: () => Date;
  /** alertbus_oncall_lookups_total{source}. */
  lookups?: Counter<'source'>;
  /** Where a failed cache write is reported. */
  log?: Logger;
}

export interface Resolved extends OnCallPeople {
  cached: boolean;
}

/** Who is on call, as Slack users: Opsgenie schedule → emails → users.lookupByEmail, cached per schedule with a TTL. */
export class OnCallResolver {
  private readonly now: () => Date;

  constructor(private readonly deps: OnCallResolverDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * `fresh` skips the cache (the user group job) but still refreshes it. `slack` and `team`: the workspace the
   * answer is for (Slack user ids are per workspace, so the cache is too; '' = the SLACK_BOT_TOKEN one).
   */
  async resolve(schedule: string, opts: { fresh?: boolean; slack?: SlackClient; team?: string } = {}): Promise<Resolved> {
    const now = this.now();
    const team = opts.team ?? '';
    const slack = opts.slack ?? this.deps.slack;
    if (!slack) throw new DeliveryError('no Slack token to look up the on-call people with', true);
    if (!opts.fresh) {
      const hit = await this.deps.cache.get(schedule, now, this.deps.ttlMs, team);
      if (hit) {
        this.deps.lookups?.inc({ source: 'cache' });
        return { ...hit, cached: true };
      }
    }
    if (!this.deps.provider) {
      throw new DeliveryError('no Opsgenie API key is configured for on-call lookups (OPSGENIE_API_KEY)', true);
    }
    const emails = await this.deps.provider.whoIsOnCall(schedule);
    this.deps.lookups?.inc({ source: 'opsgenie' });
    const slackUserIds: string[] = [];
    const unmatchedEmails: string[] = [];
    for (const email of emails) {
      const id = await slack.lookupUserByEmail(email);
      if (id && !slackUserIds.includes(id)) slackUserIds.push(id);
      else if (!id) unmatchedEmails.push(email);
    }
    const people: OnCallPeople = { schedule, emails, slackUserIds, unmatchedEmails, fetchedAt: now };
    if (this.deps.ttlMs > 0) {
      // The answer stands without the cache: a write that fails (Postgres down, a read-only standby after a
      // failover) costs the next lookup a call to Opsgenie, not this one its answer.
      await this.deps.cache.put(people, team).catch((err: Error) => {
        this.deps.log?.warn({ schedule, error: err.message }, 'on-call cache write failed; the answer is used uncached');
      });
    }
    return { ...people, cached: false };
  }

  /** Who was on call when the schedule was last looked up in this workspace (kept past the TTL), if ever. */
  async lastKnown(schedule: string, team = ''): Promise<OnCallPeople | undefined> {
    return this.deps.cache.lastKnown(schedule, team);
  }
}
