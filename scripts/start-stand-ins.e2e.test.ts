/**
 * `npm start -- --stand-ins` with the example rules: the Slack stand-in knows every channel they name, so the
 * README's own commands (`alertbus notify -t deploys … --sync`, `-t batch -l crit`) are posted, not dead-lettered
 * as channel_not_found. It has an operator and a viewer to try Slack flows with, and no one else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { responseUrl } from '@alertbus/stand-ins';
import { dropTestDatabase } from '../test/support/db';
import { slackHeaders } from '../test/support/slack-requests';
import { waitFor } from '../test/support/wait';
import { runCli } from '../test/support/cli';
import { freePortsEnv, npmStart, repoRoot, type NpmStart } from '../test/support/npm-start';

jest.setTimeout(300_000);

let run: NpmStart | undefined;

afterAll(async () => {
  delete process.env.INGEST_URL;
  delete process.env.INGEST_TOKEN;
  if (run) for (const pid of run.groupMembers()) process.kill(pid, 'SIGKILL');
  await dropTestDatabase();
});

test('the stand-in gets the channels of ROUTING_RULES and two users; a tag notification to #deploys and #batch-crit is posted; /alertbus incidents reads this stack\'s history; a pager ack comes back', async () => {
  const ports = await freePortsEnv();
  const env: NodeJS.ProcessEnv = { ...process.env, ...ports, LOG_LEVEL: 'warn', ROUTING_RULES: join(repoRoot, 'examples/rules.yaml') };
  for (const v of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_USER_ID', 'SLACK_BOT_ID', 'OPSGENIE_API_KEY', 'SLACK_STAND_IN_CHANNELS', 'SLACK_STAND_IN_USERS']) delete env[v];
  // History on a port of its own (HISTORY_PORT), asking for tokens: ingest and the slack-sink must still read it.
  Object.assign(env, { SLACK_SIGNING_SECRET: 'start-e2e-secret', HISTORY_API_TOKENS: 'ops:viewer:start-e2e-viewer-token,admin:admin:start-e2e-admin-token' });
  // Senders with tokens; the pager's (`opsgenie`) makes the pager stand-in report acks and closes to ingest.
  Object.assign(env, { INGEST_TOKEN: 'start-e2e-ingest-admin-token', INGEST_TOKENS: 'opsgenie:start-e2e-pager-token-0' });
  run = npmStart(['--stand-ins'], env);
  await run.waitFor(/^\[alertbus\] ready/m);
  // The `opsgenie` entry of INGEST_TOKENS takes the pager webhook of its name only.
  await run.waitFor(/^\[alertbus\]\s+ingest\s+http:\S+\s+\(POST \/webhooks\/alertmanager, \/webhooks\/grafana, \/webhooks\/generic, \/webhooks\/opsgenie\)$/m);
  expect(run.output()).toMatch(/^\[alertbus\] Slack stand-in channels: #alerts, #ops, #batch, #batch-crit, #db-alerts, #deploys$/m);
  // Users to try Slack flows with, known as Slack knows users: anyone else is user_not_found.
  expect(run.output()).toMatch(/^\[alertbus\] Slack stand-in users: @operator \(U0OPERATOR\), @viewer \(U0VIEWER\)$/m);
  const usersInfo = async (user: string) =>
    (await (
      await fetch(`http://127.0.0.1:${ports.SLACK_STAND_IN_PORT}/api/users.info`, {
        method: 'POST',
        headers: { authorization: 'Bearer xoxb-stand-in', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ user }).toString(),
      })
    ).json()) as { ok: boolean; error?: string; user?: { id: string; name: string } };
  expect(await usersInfo('U0OPERATOR')).toMatchObject({ ok: true, user: { id: 'U0OPERATOR', name: 'operator' } });
  expect(await usersInfo('U0NOBODY')).toMatchObject({ ok: false, error: 'user_not_found' });

  // The CLI runs as a user runs it, with this process's environment: pointed at this run's ingest.
  process.env.INGEST_URL = `http://127.0.0.1:${ports.INGEST_PORT}`;
  process.env.INGEST_TOKEN = 'start-e2e-ingest-admin-token';
  const deploy = await runCli('notify', '-t', 'deploys', '-l', 'good', '--title', 'api v1.2.3', 'deployed to production', '--sync');
  expect(deploy).toMatchObject({ exitCode: 0 });
  const crit = await runCli('notify', '-t', 'batch', '-l', 'crit', 'export failed', '--sync');
  expect(crit).toMatchObject({ exitCode: 0 });
  const { messages } = (await (await fetch(`http://127.0.0.1:${ports.SLACK_STAND_IN_PORT}/_stand-in/messages`)).json()) as { messages: Array<{ channel: string }> };
  expect(messages.map((m) => m.channel).sort()).toEqual(['C0BATCHCRIT', 'C0DEPLOYS']);

  // `/alertbus incidents` is answered from this stack's history, not refused for want of its URL or a token.
  const slack = `http://127.0.0.1:${ports.SLACK_STAND_IN_PORT}`;
  const body = new URLSearchParams({
    team_id: 'T0STANDIN',
    channel_id: 'C0ALERTS',
    channel_name: 'alerts',
    user_id: 'U0OPERATOR',
    user_name: 'operator',
    command: '/alertbus',
    text: 'incidents',
    response_url: responseUrl(`${slack}/api/`, 'start-e2e-incidents'),
    trigger_id: `${Date.now()}.1.start-e2e`,
  }).toString();
  const asked = await fetch(`http://127.0.0.1:${ports.INGEST_PORT}/slack/commands`, {
    method: 'POST',
    headers: slackHeaders(body, 'start-e2e-secret', { contentType: 'application/x-www-form-urlencoded' }),
    body,
  });
  expect(asked.status).toBe(200);
  const answer = await waitFor(
    async () =>
      ((await (await fetch(`${slack}/_stand-in/responses`)).json()) as { responses: Array<{ id: string; body: { text?: string } }> }).responses.find(
        (r) => r.id === 'start-e2e-incidents',
      ),
    { timeoutMs: 60_000, what: 'the answer to /alertbus incidents' },
  );
  expect(answer.body.text).not.toMatch(/could not|cannot reach|HISTORY_URL|401/);
  expect(answer.body.text).toMatch(/incident/i);

  // An alert paged through the stand-in, acknowledged in the "pager app": the stand-in reports it to ingest and the
  // history says who acknowledged it there.
  expect(run.output()).toMatch(/Opsgenie stand-in reports acks and closes to http:\/\/127\.0\.0\.1:\d+\/webhooks\/opsgenie/);
  const sent = await fetch(`http://127.0.0.1:${ports.INGEST_PORT}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer start-e2e-ingest-admin-token' },
    body: readFileSync(join(repoRoot, 'examples/alertmanager-firing.json'), 'utf8'),
  });
  expect(sent.status).toBe(202);
  const pager = `http://127.0.0.1:${ports.OPSGENIE_STAND_IN_PORT}`;
  const alias = 'alertmanager:5f1a9c0d2b3e4f60';
  await waitFor(async () => ((await (await fetch(`${pager}/_stand-in/alerts`)).json()) as { alerts: Array<{ alias: string }> }).alerts.some((a) => a.alias === alias), {
    timeoutMs: 60_000,
    what: 'the page',
  });
  const acked = await fetch(`${pager}/v2/alerts/${encodeURIComponent(alias)}/acknowledge?identifierType=alias`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'GenieKey stand-in-genie-key' },
    body: JSON.stringify({ user: 'pager-person@example.com' }),
  });
  expect(acked.status).toBe(202);
  const history = `http://127.0.0.1:${ports.HISTORY_PORT}`;
  const incident = await waitFor(
    async () =>
      ((await (await fetch(`${history}/api/incidents?alias=${encodeURIComponent(alias)}`, { headers: { authorization: 'Bearer start-e2e-viewer-token' } })).json()) as {
        incidents: Array<{ status: string; acknowledged_by: string | null }>;
      }).incidents.find((i) => i.status === 'acknowledged'),
    { timeoutMs: 60_000, what: 'the incident acknowledged from the pager, in the history' },
  );
  expect(incident.acknowledged_by).toBe('pager-person@example.com');

  run.interrupt();
  await run.exited;
  expect(run.output()).toMatch(/^\[alertbus\] stopped$/m);
});
