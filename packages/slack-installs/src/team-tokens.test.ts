/** Which token speaks for a team, and how long a caller with a deadline waits for Postgres to say. */
import { TeamTokens } from './team-tokens';

const row = { teamId: 'T1', botToken: 'xoxb-installed', botUserId: 'U0BOT', botId: 'B0BOT', scopes: [], installedAt: new Date(), updatedAt: new Date() };

/** A store whose look-ups answer only when the test says. */
function slowStore() {
  const calls: string[] = [];
  const waiting: Array<(value: typeof row | undefined) => void> = [];
  const failing: Array<(err: Error) => void> = [];
  return {
    calls,
    answer: (value: typeof row | undefined) => waiting.splice(0).forEach((r) => r(value)),
    fail: (err: Error) => failing.splice(0).forEach((r) => r(err)),
    store: {
      find: (teamId: string) =>
        new Promise<typeof row | undefined>((resolve, reject) => {
          calls.push(teamId);
          waiting.push(resolve);
          failing.push(reject);
        }),
    },
  };
}

test('the installed token, else SLACK_BOT_TOKEN; cached for the TTL', async () => {
  const s = slowStore();
  const tokens = new TeamTokens({ store: s.store, defaultToken: 'xoxb-default' });
  const first = tokens.forTeam('T1');
  s.answer(row);
  expect(await first).toEqual({ token: 'xoxb-installed', source: 'installed', botUserId: 'U0BOT', botId: 'B0BOT' });
  expect(await tokens.forTeam('T1')).toMatchObject({ source: 'installed' });
  expect(s.calls).toEqual(['T1']);
  const other = tokens.forTeam('T2');
  s.answer(undefined);
  expect(await other).toEqual({ token: 'xoxb-default', source: 'default' });
});

test('with a deadline, a look-up Postgres does not answer in time fails, and the team\'s next ones fail at once; the late answer is kept', async () => {
  let clock = 1_000_000;
  const s = slowStore();
  const tokens = new TeamTokens({ store: s.store, defaultToken: 'xoxb-default', lookupTimeoutMs: 50, failureTtlMs: 5_000, now: () => clock });
  const started = Date.now();
  await expect(tokens.forTeam('T1')).rejects.toThrow('the Slack installation of team T1 was not read from Postgres within 50 ms');
  expect(Date.now() - started).toBeLessThan(1_000);
  // Within the failure's time: no second wait, no second query.
  await expect(tokens.forTeam('T1')).rejects.toThrow(/within 50 ms/);
  expect(s.calls).toEqual(['T1']);
  // Postgres answers late: the answer is used from then on.
  s.answer(row);
  await new Promise((r) => setImmediate(r));
  expect(await tokens.forTeam('T1')).toMatchObject({ token: 'xoxb-installed', source: 'installed' });
  // A failed look-up, after the cache and the failure's time have passed: said at once, then tried again later.
  clock += 60_000;
  const failing = tokens.forTeam('T1');
  s.fail(new Error('connection terminated'));
  await expect(failing).rejects.toThrow('connection terminated');
  await expect(tokens.forTeam('T1')).rejects.toThrow('connection terminated');
  expect(s.calls).toEqual(['T1', 'T1']);
  clock += 6_000;
  const again = tokens.forTeam('T1');
  s.answer(row);
  expect(await again).toMatchObject({ source: 'installed' });
  expect(s.calls).toEqual(['T1', 'T1', 'T1']);
});
