import { Counter, type Logger, type Registry } from '@alertbus/common';
import { makeEnvelope, newId, type AnyEnvelope } from '@alertbus/schemas';
import type { SlackClient } from '../client';
import type { OnCallUserGroupConfig } from '../config';
import type { OnCallResolver } from './resolver';

export type UserGroupSyncOutcome = 'updated' | 'unchanged' | 'skipped-empty' | 'failed';

export interface UserGroupSyncResult {
  outcome: UserGroupSyncOutcome;
  users: string[];
  previousUsers: string[];
  error?: string;
}

export interface UserGroupJobDeps {
  config: OnCallUserGroupConfig;
  resolver: OnCallResolver;
  client: SlackClient;
  /** Where SlackUserGroupUpdated goes (deliveries.v1). */
  emit: (events: AnyEnvelope[]) => Promise<void>;
  log: Logger;
  registry: Registry;
  now?: () => Date;
}

const sameMembers = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);

/**
 * Every N minutes, sets a Slack user group's members to a schedule's current on-call people (so `@oncall`
 * always reaches them). usergroups.users.update replaces the whole list, so the full list is computed each
 * time; the call is skipped when the members already match, and when nobody could be found (Slack cannot
 * empty a group that way, and an empty @oncall would silently reach no one).
 */
export class OnCallUserGroupJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<UserGroupSyncResult> | undefined;
  private readonly syncs: Counter<'outcome'>;
  private readonly now: () => Date;

  constructor(private readonly deps: UserGroupJobDeps) {
    this.now = deps.now ?? (() => new Date());
    this.syncs =
      (deps.registry.getSingleMetric('alertbus_oncall_usergroup_syncs_total') as Counter<'outcome'> | undefined) ??
      new Counter({
        name: 'alertbus_oncall_usergroup_syncs_total',
        help: 'Runs of the on-call user group job, by outcome (updated, unchanged, skipped-empty, failed).',
        labelNames: ['outcome'],
        registers: [deps.registry],
      });
  }

  /** Runs once now, then every interval; runs never overlap. */
  start(): void {
    void this.syncOnce();
    this.timer = setInterval(() => void this.syncOnce(), this.deps.config.intervalMinutes * 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One sync; a call while one is running waits for that one instead of starting another. */
  syncOnce(): Promise<UserGroupSyncResult> {
    this.running ??= this.sync().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sync(): Promise<UserGroupSyncResult> {
    const { usergroup, schedule } = this.deps.config;
    const log = this.deps.log;
    let previousUsers: string[] = [];
    let users: string[] = [];
    try {
      const people = await this.deps.resolver.resolve(schedule, { fresh: true });
      users = [...people.slackUserIds].sort();
      if (users.length === 0) {
        log.warn({ usergroup, schedule, emails: people.emails }, 'nobody on call with a Slack account: user group left as it is');
        return this.done({ outcome: 'skipped-empty', users, previousUsers });
      }
      previousUsers = [...(await this.deps.client.usergroupMembers(usergroup))].sort();
      if (sameMembers(users, previousUsers)) return this.done({ outcome: 'unchanged', users, previousUsers });
      await this.deps.client.setUsergroupMembers(usergroup, users);
      const at = this.now().toISOString();
      await this.deps.emit([
        makeEnvelope({
          id: newId(),
          type: 'SlackUserGroupUpdated',
          alias: `slack-usergroup:${usergroup}`,
          occurredAt: at,
          recordedAt: at,
          source: 'slack-sink',
          data: { usergroup, schedule, users, previousUsers, emails: people.emails, unmatchedEmails: people.unmatchedEmails },
        }),
      ]);
      log.info({ usergroup, schedule, users, previousUsers }, 'on-call user group updated');
      return this.done({ outcome: 'updated', users, previousUsers });
    } catch (err) {
      const error = (err as Error).message;
      log.warn({ usergroup, schedule, error }, 'on-call user group sync failed; trying again at the next interval');
      return this.done({ outcome: 'failed', users, previousUsers, error });
    }
  }

  private done(result: UserGroupSyncResult): UserGroupSyncResult {
    this.syncs.inc({ outcome: result.outcome });
    return result;
  }
}
