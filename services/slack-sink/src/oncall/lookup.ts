import { DeliveryError, isInfrastructureError, type Logger } from '@alertbus/common';
import type { TeamClient } from '../team-clients';
import type { OnCallResolver } from './resolver';
import type { OnCallResolution } from './texts';

/** A person waiting for an answer is told the lookup failed after this many tries, rather than left waiting. */
export const DEFAULT_ONCALL_LOOKUP_ATTEMPTS = 4;

export interface OnCallLookupDeps {
  resolver?: OnCallResolver;
  log: Logger;
  /** From this attempt on, a failing lookup is answered instead of retried (default 4). */
  onCallLookupAttempts?: number;
}

/**
 * Who is on call for an answer someone waits for (a thread reply, a slash command): a failure the person
 * should hear about becomes a lookup-failed resolution; one worth another try (before the last attempt) throws.
 * When the last attempt fails in a way worth retrying (Opsgenie down), the last known on-call people (the
 * cache's entry, however old) are the answer, said to be that: the ping is not lost, and the partition the
 * command heads is not held for the length of an outage. A Postgres fault (of the cache) is thrown as it is: the
 * runner retries the record, like any other infrastructure fault, without counting an attempt.
 */
export async function lookUpOnCall(deps: OnCallLookupDeps, schedule: string, commandId: string, attempt: number, team: TeamClient): Promise<OnCallResolution> {
  const failed = (error: string, emails: string[] = [], unmatched: string[] = []): OnCallResolution => ({
    schedule,
    outcome: 'lookup-failed',
    emails,
    slackUserIds: [],
    unmatchedEmails: unmatched,
    cached: false,
    error,
  });
  if (!deps.resolver) return failed('on-call lookups are not configured');
  try {
    const people = await deps.resolver.resolve(schedule, { slack: team.client, team: team.cacheTeam });
    const base = { schedule, emails: people.emails, slackUserIds: people.slackUserIds, unmatchedEmails: people.unmatchedEmails, cached: people.cached };
    if (people.emails.length === 0) return { ...base, outcome: 'nobody-on-call' };
    if (people.slackUserIds.length === 0) {
      return { ...failed('none of the on-call people has a Slack account with their Opsgenie email', people.emails, people.unmatchedEmails), cached: people.cached };
    }
    return { ...base, outcome: 'mentioned' };
  } catch (err) {
    // Postgres (the cache) not answering is not Opsgenie failing: the runner retries the command, the attempt is
    // not spent, and nobody is told "Connection terminated" as who is on call.
    if (!(err instanceof DeliveryError) && isInfrastructureError(err)) throw err;
    const e = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message, false);
    const lastAttempt = attempt >= (deps.onCallLookupAttempts ?? DEFAULT_ONCALL_LOOKUP_ATTEMPTS);
    // Worth another try: the runner retries (what was already posted is not posted again).
    if (!e.permanent && !lastAttempt) throw e;
    // An outage (not a refusal): who was on call when last looked up is still worth a ping, said to be that.
    const last = e.permanent ? undefined : await deps.resolver.lastKnown(schedule, team.cacheTeam);
    if (last && last.slackUserIds.length > 0) {
      deps.log.warn({ commandId, schedule, error: e.message, knownAt: last.fetchedAt }, 'on-call lookup failed; answering with the last known on-call');
      const { emails, slackUserIds, unmatchedEmails } = last;
      return { schedule, outcome: 'last-known', emails, slackUserIds, unmatchedEmails, cached: true, error: e.message, knownAt: last.fetchedAt.toISOString() };
    }
    deps.log.warn({ commandId, schedule, error: e.message }, 'on-call lookup failed; saying so');
    return failed(e.message);
  }
}
