/**
 * `npm start -- --stand-ins` with no way in from Slack configured (no signing secret, app token or OAuth): ingest
 * takes the Slack stand-in's Socket Mode, so the README's click on *Acknowledge* as @operator, posted to the
 * stand-in's /_stand-in/socket/envelopes, acknowledges the incident. On ports other than the defaults, the ready
 * banner says what the CLI needs to find ingest and the history.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropTestDatabase } from '../test/support/db';
import { waitFor } from '../test/support/wait';
import { freePortsEnv, npmStart, repoRoot, type NpmStart } from '../test/support/npm-start';

jest.setTimeout(300_000);

let run: NpmStart | undefined;

afterAll(async () => {
  if (run) for (const pid of run.groupMembers()) process.kill(pid, 'SIGKILL');
  await dropTestDatabase();
});

interface StandInMessage {
  channel: string;
  ts: string;
  thread_ts?: string | null;
  text: string;
  blocks?: Array<{ block_id?: string; elements?: Array<{ action_id?: string; value?: string }> }>;
}

test('a click on Acknowledge as @operator, posted to the Slack stand-in, acknowledges the incident; the banner names INGEST_URL and HISTORY_URL', async () => {
  const ports = await freePortsEnv();
  const env: NodeJS.ProcessEnv = { ...process.env, ...ports, LOG_LEVEL: 'warn' };
  for (const v of ['SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_CLIENT_ID', 'SLACK_BOT_TOKEN', 'OPSGENIE_API_KEY', 'INGEST_TOKEN', 'INGEST_TOKENS', 'HISTORY_API_TOKENS', 'ROUTING_RULES']) delete env[v];
  for (const v of ['HISTORY_URL', 'INGEST_URL', 'SLACK_STAND_IN_CHANNELS', 'SLACK_STAND_IN_USERS']) delete env[v];
  run = npmStart(['--stand-ins'], env);
  await run.waitFor(/^\[alertbus\] Ctrl-C stops everything\.$/m);
  expect(run.output()).toMatch(/^\[alertbus\] Slack stand-in reaches ingest over Socket Mode: POST clicks and mentions to http:\/\/127\.0\.0\.1:\d+\/_stand-in\/socket\/envelopes$/m);
  expect(run.output()).toContain(
    `[alertbus] for the alertbus CLI in another terminal:\n  export INGEST_URL=http://127.0.0.1:${ports.INGEST_PORT}\n  export HISTORY_URL=http://127.0.0.1:${ports.HISTORY_PORT}\n`,
  );

  const sent = await fetch(`http://127.0.0.1:${ports.INGEST_PORT}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: readFileSync(join(repoRoot, 'examples/alertmanager-firing.json'), 'utf8'),
  });
  expect(sent.status).toBe(202);
  const slack = `http://127.0.0.1:${ports.SLACK_STAND_IN_PORT}`;
  const messages = async () => ((await (await fetch(`${slack}/_stand-in/messages`)).json()) as { messages: StandInMessage[] }).messages;
  const actionsOf = (m: StandInMessage) => m.blocks?.find((b) => b.block_id === 'alertbus_incident_actions');
  const root = await waitFor(async () => (await messages()).filter((m) => actionsOf(m)).pop(), { timeoutMs: 60_000, what: 'the alert message with its buttons' });

  // The envelope the README's jq command builds from the latest alert message.
  const click = {
    envelope_id: `click-${Date.now()}`,
    type: 'interactive',
    payload: {
      type: 'block_actions',
      team: { id: 'T0ALERTBUS' },
      user: { id: 'U0OPERATOR', name: 'operator' },
      container: { type: 'message', channel_id: root.channel, message_ts: root.ts },
      actions: [{ type: 'button', action_id: 'alertbus_ack', action_ts: String(Date.now() / 1000), value: actionsOf(root)!.elements![0]!.value }],
    },
  };
  const pushed = await fetch(`${slack}/_stand-in/socket/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(click) });
  expect(await pushed.json()).toEqual({ delivered: 1 });

  const reply = await waitFor(async () => (await messages()).find((m) => m.thread_ts === root.ts && /Acknowledged by <@U0OPERATOR>/.test(m.text)), {
    timeoutMs: 60_000,
    what: 'the acknowledgement in the thread',
  });
  expect(reply.channel).toBe(root.channel);
  const pager = `http://127.0.0.1:${ports.OPSGENIE_STAND_IN_PORT}`;
  await waitFor(
    async () => ((await (await fetch(`${pager}/_stand-in/alerts`)).json()) as { alerts: Array<{ alias: string; acknowledged: boolean }> }).alerts.find((a) => a.acknowledged),
    { timeoutMs: 60_000, what: 'the pager alert acknowledged' },
  );

  run.interrupt();
  await run.exited;
  expect(run.output()).toMatch(/^\[alertbus\] stopped$/m);
});
