/** Silences end to end: the API writes SilenceCreated/SilenceExpired to Kafka, the projection lists them, the CLI drives both. */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { ensureDatabase } from '@alertbus/common';
import { TOPICS } from '@alertbus/schemas';
import { dropTestDatabase } from '../../../../test/support/db';
import { readTopic, testBrokers, testKafka } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';
import { startHistory, type HistoryService } from '../index';
import { runCli } from '../../../../test/support/cli';

let kafka: Kafka;
let service: HistoryService;

/** Silences are written with an operator's token; the silence is recorded under the token's name. */
const OPERATOR = { name: 'alice', role: 'operator' as const, token: 'silences-int-operator-token-1' };
const OTHER_OPERATOR = { name: 'bob', role: 'operator' as const, token: 'silences-int-operator-token-2' };

async function call(
  method: string,
  path: string,
  body?: unknown,
  as: { token: string } = OPERATOR,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      ...headers,
      authorization: `Bearer ${as.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const listed = async (state: string) => (await call('GET', `/api/silences?state=${state}`)).body.silences as Array<{ silence_id: string }>;

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-silences');
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent', tokens: [OPERATOR, OTHER_OPERATOR] });
});

afterAll(async () => {
  await service?.close();
  await dropTestDatabase();
});

describe('POST /api/silences', () => {
  it('writes SilenceCreated to silences.v1 (201 once acknowledged), and the list shows it as active', async () => {
    const { status, body } = await call('POST', '/api/silences', {
      matchers: ['team="db"', 'severity=~"warning|info"'],
      duration: '2h',
      comment: 'database upgrade',
    });

    expect(status).toBe(201);
    expect(body).toMatchObject({ silence_id: expect.any(String), state: 'active', kind: 'silence', created_by: 'alice' });
    expect(Date.parse(body.ends_at) - Date.parse(body.starts_at)).toBe(2 * 3_600_000);
    const records = await readTopic(kafka, TOPICS.silences);
    expect(records.map((r) => [r.key, r.event?.type, (r.event?.data as { silenceId: string }).silenceId])).toEqual([
      [`silence:${body.silence_id}`, 'SilenceCreated', body.silence_id],
    ]);
    await waitFor(async () => (await listed('active')).some((s) => s.silence_id === body.silence_id), { what: 'the silence listed' });
  });

  it('a credential pasted into the comment is redacted in what the API answers and lists, for every reader', async () => {
    const { status, body } = await call('POST', '/api/silences', {
      matchers: ['team="vault"'],
      duration: '1h',
      comment: 'rotating creds in https://ops:Sup3rPw@vault.example.com/ui?token=abc123 and password=Hunter22',
    });
    expect(status).toBe(201);
    const shown = 'rotating creds in https://[redacted]@vault.example.com/ui?token=[redacted] and password=[redacted]';
    expect(body.comment).toBe(shown);
    await waitFor(async () => (await listed('active')).some((s) => s.silence_id === body.silence_id), { what: 'the silence listed' });
    const listedOne = (await call('GET', '/api/silences?state=active')).body.silences.find((s: { silence_id: string }) => s.silence_id === body.silence_id);
    expect(listedOne.comment).toBe(shown);
    expect((await call('GET', `/api/silences/${body.silence_id}`)).body.comment).toBe(shown);
  });

  it('a maintenance window planned ahead is pending until it starts', async () => {
    const startsAt = new Date(Date.now() + 86_400_000).toISOString();
    const endsAt = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const { body } = await call('POST', '/api/silences', { matchers: ['service="api"'], startsAt, endsAt, comment: 'migration', kind: 'maintenance' });

    expect(body).toMatchObject({ state: 'pending', kind: 'maintenance', starts_at: startsAt, ends_at: endsAt });
    await waitFor(async () => (await listed('pending')).some((s) => s.silence_id === body.silence_id), { what: 'pending' });
    expect((await listed('active')).some((s) => s.silence_id === body.silence_id)).toBe(false);
  });

  it.each([
    [{ matchers: ['team=db'], comment: 'c' }, /exactly one of endsAt and duration/],
    [{ matchers: ['team=db'], duration: '2h', endsAt: '2030-01-01T00:00:00Z', comment: 'c' }, /exactly one of endsAt and duration/],
    [{ matchers: ['team=db'], duration: 'two hours', comment: 'c' }, /duration "two hours" is not a duration/],
    [{ matchers: ['team db'], duration: '2h', comment: 'c' }, /bad matcher "team db"/],
    [{ matchers: ['team=~"(db"'], duration: '2h', comment: 'c' }, /bad regex in matcher/],
    [{ matchers: ['team=~".*"'], duration: '2h', comment: 'c' }, /would silence every alert .*"allowAll": true/],
    [{ matchers: [], duration: '2h', comment: 'c' }, /without matchers silences every alert/],
    [{ matchers: ['team=db'], startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-01T00:00:00Z', comment: 'c' }, /endsAt must be after startsAt/],
    [{ matchers: ['team=db'], endsAt: '2020-01-01T00:00:00Z', comment: 'c' }, /endsAt is in the past/],
    [{ matchers: ['team=db'], duration: '1000d', comment: 'c' }, /would last 1000d, longer than SILENCE_MAX_DURATION \(30d\)/],
    [{ matchers: ['team=db'], duration: '2h' }, /comment/],
    [{ matchers: ['team=db'], duration: '2h', comment: 'c', createdBy: 'mallory' }, /body field "createdBy" is not accepted: the author is the name of the token .*\("alice"\)/],
    [{ matchers: ['team=db'], duration: '2h', comment: 'c', kind: 'holiday' }, /kind/],
  ])('%j → 400', async (body, message) => {
    const res = await call('POST', '/api/silences', body);

    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'bad_request', message: expect.stringMatching(message) });
  });
});

describe('POST /api/silences with an Idempotency-Key', () => {
  const post = (body: unknown, key: string, as: { token: string } = OPERATOR) =>
    call('POST', '/api/silences', body, as, { 'idempotency-key': key });
  const createdEvents = async (silenceId: string) =>
    (await readTopic(kafka, TOPICS.silences)).filter(
      (r) => r.event?.type === 'SilenceCreated' && (r.event.data as { silenceId: string }).silenceId === silenceId,
    );
  const listedWith = async (comment: string) =>
    ((await call('GET', '/api/silences?state=all&limit=1000')).body.silences as Array<{ silence_id: string; comment: string }>).filter(
      (s) => s.comment === comment,
    );

  // A client that timed out and sent again made a second silence, which outlived the first one's expiry.
  it('a retry with the same key and body is the first silence: its id, 200, and no second event or silence', async () => {
    const key = randomUUID();
    const body = { matchers: ['job="retried"'], duration: '1h', comment: 'retried request' };
    const first = await post(body, key);
    expect(first.status).toBe(201);

    const soon = await post(body, key);
    expect(soon).toMatchObject({ status: 200, body: { silence_id: first.body.silence_id, created_by: 'alice', ends_at: first.body.ends_at } });
    await waitFor(async () => (await listedWith('retried request')).length > 0, { what: 'listed' });
    const later = await post(body, key);
    expect(later).toMatchObject({ status: 200, body: { silence_id: first.body.silence_id, state: 'active' } });

    expect(await createdEvents(first.body.silence_id)).toHaveLength(1);
    expect((await listedWith('retried request')).map((s) => s.silence_id)).toEqual([first.body.silence_id]);
  });

  it('two requests with one key at once make one silence', async () => {
    const key = randomUUID();
    const body = { matchers: ['job="twice"'], duration: '1h', comment: 'sent twice at once' };
    const answers = await Promise.all([post(body, key), post(body, key)]);

    expect(answers.map((a) => a.status).sort()).toEqual([200, 201]);
    expect(answers[0]!.body.silence_id).toBe(answers[1]!.body.silence_id);
    await waitFor(async () => (await listedWith('sent twice at once')).length > 0, { what: 'listed' });
    expect(await createdEvents(answers[0]!.body.silence_id)).toHaveLength(1);
    expect(await listedWith('sent twice at once')).toHaveLength(1);
  });

  it('the same key with another body is a 422 naming the problem; the same key of another token is its own', async () => {
    const key = randomUUID();
    const first = await post({ matchers: ['job="a"'], duration: '1h', comment: 'first body' }, key);
    expect(first.status).toBe(201);

    expect(await post({ matchers: ['job="b"'], duration: '1h', comment: 'first body' }, key)).toEqual({
      status: 422,
      body: {
        error: 'unprocessable',
        message:
          'this Idempotency-Key came with another body in the last 24 h (silence ' +
          `"${first.body.silence_id}"): a retry must send the same body; use a new key for a new silence`,
      },
    });
    const bobs = await post({ matchers: ['job="b"'], duration: '1h', comment: 'first body' }, key, OTHER_OPERATOR);
    expect(bobs).toMatchObject({ status: 201, body: { created_by: 'bob' } });
    expect(bobs.body.silence_id).not.toBe(first.body.silence_id);
  });

  it('a key is remembered for 24 h: after that it makes a new silence', async () => {
    const key = randomUUID();
    const body = { matchers: ['job="daily"'], duration: '1h', comment: 'daily job' };
    const first = await post(body, key);
    await service.pool.query(`UPDATE silence_requests SET created_at = created_at - interval '25 hours' WHERE silence_id = $1`, [first.body.silence_id]);

    const next = await post(body, key);
    expect(next.status).toBe(201);
    expect(next.body.silence_id).not.toBe(first.body.silence_id);
  });

  it.each(['with space', 'x'.repeat(201), 'caf\u00e9'])('Idempotency-Key %j → 400', async (key) => {
    expect(await post({ matchers: ['job="k"'], duration: '1h', comment: 'bad key' }, key)).toEqual({
      status: 400,
      body: { error: 'bad_request', message: 'Idempotency-Key must be 1-200 printable ASCII characters without spaces' },
    });
  });
});

describe('DELETE /api/silences/:id', () => {
  it('writes SilenceExpired; the silence moves to expired with who and when', async () => {
    const { body: created } = await call('POST', '/api/silences', { matchers: ['job="backup"'], duration: '1h', comment: 'noisy' });
    await waitFor(async () => (await listed('active')).some((s) => s.silence_id === created.silence_id), { what: 'active' });

    expect(await call('DELETE', `/api/silences/${created.silence_id}?by=dave`)).toEqual({
      status: 400,
      body: { error: 'bad_request', message: expect.stringMatching(/^query parameter "by" is not accepted: the author is the name of the token/) },
    });
    const { status, body } = await call('DELETE', `/api/silences/${created.silence_id}`);

    expect(status).toBe(200);
    expect(body).toMatchObject({ silence_id: created.silence_id, state: 'expired', expired_by: 'alice' });
    await waitFor(async () => (await listed('expired')).some((s) => s.silence_id === created.silence_id), { what: 'expired' });
    // Expiring again changes nothing.
    expect((await call('DELETE', `/api/silences/${created.silence_id}`)).body).toMatchObject({ expired_by: 'alice' });
    const expiries = (await readTopic(kafka, TOPICS.silences)).filter((r) => r.event?.type === 'SilenceExpired');
    expect(expiries).toHaveLength(1);
  });

  it('a silence expired right after it was created, before the history has it, is expired, not a 404', async () => {
    const { body: created } = await call('POST', '/api/silences', { matchers: ['job="typo"'], duration: '1h', comment: 'wrong matcher' });
    const { status, body } = await call('DELETE', `/api/silences/${created.silence_id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ silence_id: created.silence_id, state: 'expired', expired_by: 'alice' });
    await waitFor(async () => (await listed('expired')).some((s) => s.silence_id === created.silence_id), { what: 'expired' });
  });

  // Both used to answer 200 with their own name: the one whose expiry counted nowhere believed it had ended the silence.
  it('of two expiries at once by different people, the one the projection did not take is a 409 naming who expired it and when', async () => {
    const { body: created } = await call('POST', '/api/silences', { matchers: ['job="race"'], duration: '1h', comment: 'two hands' });
    await waitFor(async () => (await listed('active')).some((s) => s.silence_id === created.silence_id), { what: 'active' });

    const answers = await Promise.all([OPERATOR, OTHER_OPERATOR].map((as) => call('DELETE', `/api/silences/${created.silence_id}`, undefined, as)));

    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const won = answers.find((a) => a.status === 200)!.body;
    const lost = answers.find((a) => a.status === 409)!.body;
    const stored = (await call('GET', `/api/silences/${created.silence_id}`)).body;
    expect(stored).toMatchObject({ state: 'expired', expired_by: won.expired_by, expired_at: won.expired_at });
    expect(lost).toEqual({
      error: 'conflict',
      message: `silence "${created.silence_id}" was already expired by ${won.expired_by} at ${won.expired_at}: this expiry changed nothing`,
    });
  });

  it('expiring a silence someone else expired is a 409 naming them, whether or not the history had it already', async () => {
    const { body: created } = await call('POST', '/api/silences', { matchers: ['job="late"'], duration: '1h', comment: 'gone' });
    const first = await call('DELETE', `/api/silences/${created.silence_id}`);
    expect(first).toMatchObject({ status: 200, body: { expired_by: 'alice' } });
    await waitFor(async () => (await listed('expired')).some((s) => s.silence_id === created.silence_id), { what: 'expired' });

    expect(await call('DELETE', `/api/silences/${created.silence_id}`, undefined, OTHER_OPERATOR)).toEqual({
      status: 409,
      body: {
        error: 'conflict',
        message: `silence "${created.silence_id}" was already expired by alice at ${first.body.expired_at}: this expiry changed nothing`,
      },
    });
    // Its own author asking again (a retry) is told it is expired, as before.
    expect(await call('DELETE', `/api/silences/${created.silence_id}`)).toMatchObject({ status: 200, body: { expired_by: 'alice' } });
  });

  it('an unknown silence is a 404 that says a new one may not be in the history yet', async () => {
    expect(await call('DELETE', '/api/silences/nope')).toEqual({
      status: 404,
      body: {
        error: 'not_found',
        message: 'no silence with id "nope" in the history (one created in the last seconds may not be in it yet while the history catches up: try again)',
      },
    });
  });
});

describe('reads on loopback (the default HISTORY_HOST) with tokens configured', () => {
  it('need a token too (behind a reverse proxy every request comes from 127.0.0.1); one that is not configured is refused', async () => {
    expect((await fetch(`${service.url}/api/silences?state=all`)).status).toBe(401);
    expect((await fetch(`${service.url}/api/silences?state=all`, { headers: { authorization: `Bearer ${OPERATOR.token}` } })).status).toBe(200);
    const wrong = await fetch(`${service.url}/api/silences`, { headers: { authorization: 'Bearer not-a-configured-token' } });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${service.url}/api/silences`, { method: 'POST' })).status).toBe(401);
  });
});

describe('alertbus silence', () => {
  const withToken = async <T>(token: string | undefined, fn: () => Promise<T>): Promise<T> => {
    const before = process.env.ALERTBUS_TOKEN;
    if (token === undefined) delete process.env.ALERTBUS_TOKEN;
    else process.env.ALERTBUS_TOKEN = token;
    try {
      return await fn();
    } finally {
      if (before === undefined) delete process.env.ALERTBUS_TOKEN;
      else process.env.ALERTBUS_TOKEN = before;
    }
  };

  it('adds, lists and expires over the API with ALERTBUS_TOKEN, recorded under the token\'s name', async () => {
    const url = ['--url', service.url];
    await withToken(OPERATOR.token, async () => {
      const add = await runCli('silence', 'add', '--matcher', 'team="web"', '--matcher', 'env!="dev"', '--duration', '30m', '--comment', 'deploy', ...url);
      expect(add.exitCode).toBe(0);
      const id = add.stdout.split('\n')[0]!;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      // Sent with a key of its own, so a retry of the request would be this silence.
      const { rows } = await service.pool.query('SELECT identity, idempotency_key FROM silence_requests WHERE silence_id = $1', [id]);
      expect(rows).toEqual([{ identity: 'alice', idempotency_key: expect.stringMatching(/^[0-9a-f-]{36}$/) }]);

      await waitFor(async () => (await runCli('silence', 'list', ...url)).stdout.includes(id), { what: 'listed by the CLI' });
      const list = await runCli('silence', 'list', ...url);
      expect(list.stdout).toMatch(new RegExp(`${id}\\s+active\\s+silence .* alice\\s+team="web",env!="dev"\\s+deploy`));

      const expire = await runCli('silence', 'expire', id, ...url);
      expect(expire.stdout).toMatch(/expired by alice/);
      await waitFor(async () => (await runCli('silence', 'list', '--state', 'expired', '--json', ...url)).stdout.includes(id), { what: 'expired' });

      // A maintenance window set up ahead is not active yet; the default listing says it is there.
      const later = new Date(Date.now() + 2 * 3_600_000).toISOString();
      const window = await runCli('silence', 'add', '--matcher', 'team="web"', '--starts-at', later, '--duration', '30m', '--comment', 'upgrade', ...url);
      expect(window.exitCode).toBe(0);
      const windowId = window.stdout.split('\n')[0]!;
      await waitFor(async () => (await runCli('silence', 'list', '--state', 'pending', ...url)).stdout.includes(windowId), { what: 'the window pending' });
      const listed = await runCli('silence', 'list', ...url);
      expect(listed.stdout).not.toContain(windowId);
      expect(listed.stdout).toMatch(/^\(and [1-9]\d* pending, starting later: alertbus silence list --state pending\)$/m);
      await runCli('silence', 'expire', windowId, ...url);

      const bad = await runCli('silence', 'add', '--matcher', 'team', '--duration', '30m', '--comment', 'x', ...url);
      expect(bad).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('400 bad matcher "team"') });
      const author = await runCli('silence', 'add', '--matcher', 'team="web"', '--duration', '30m', '--comment', 'x', '--author', 'bob', ...url);
      expect(author).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('--author is not accepted') });

      const everything = await runCli('silence', 'add', '--allow-all', '--duration', '10m', '--comment', 'migration, all alerts are noise', ...url);
      expect(everything).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('this silence matches every alert') });
    });
  });

  it('without ALERTBUS_TOKEN, a write is refused and the error says what to set', async () => {
    const add = await withToken(undefined, () =>
      runCli('silence', 'add', '--matcher', 'team="web"', '--duration', '30m', '--comment', 'deploy', '--url', service.url),
    );

    expect(add.exitCode).toBe(1);
    expect(add.stderr).toContain('POST /api/silences: 401 POST /api/silences needs a token with role operator or higher');
    expect(add.stderr).toContain('set ALERTBUS_TOKEN');
  });
});
