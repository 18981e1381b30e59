/** The app's own identity from auth.test (the Slack stand-in over HTTP), and from configuration. */
import pino from 'pino';
import { startSlackStandIn, type SlackStandIn } from '../../../../packages/stand-ins/src/slack/server';
import { waitFor } from '../../../../test/support/wait';
import { fixedIdentity, SlackIdentity } from './identity';

const log = pino({ level: 'silent' });
let standIn: SlackStandIn;
let identity: SlackIdentity | undefined;

beforeEach(async () => {
  standIn = await startSlackStandIn({ tokens: ['xoxb-id-test'] });
});
afterEach(async () => {
  identity?.stop();
  await standIn.close();
});

test('learns the bot user id, bot id and workspace URL with auth.test', async () => {
  identity = new SlackIdentity({ configured: {}, botToken: 'xoxb-id-test', apiUrl: standIn.url, log });
  await identity.start();
  expect(identity.current()).toEqual({ userId: 'U0ALERTBUS', botId: 'B0ALERTBUS', workspaceUrl: 'https://alertbus-stand-in.slack.com/' });
  expect(identity.problem()).toBeUndefined();
});

test('keeps trying in the background while Slack fails, and says why meanwhile', async () => {
  standIn.state.failNext('auth.test', { status: 503 }, 2);
  identity = new SlackIdentity({ configured: {}, botToken: 'xoxb-id-test', apiUrl: standIn.url, log, retryDelaysMs: [20] });
  await identity.start();
  expect(identity.current()).toBeUndefined();
  expect(identity.problem()).toMatch(/auth\.test: HTTP 503/);
  await waitFor(() => identity!.current(), { timeoutMs: 10_000 });
  expect(standIn.state.calls.map((c) => c.status)).toEqual([503, 503, 200]);
});

test('an invalid token is reported with Slack\'s error', async () => {
  identity = new SlackIdentity({ configured: {}, botToken: 'xoxb-revoked', apiUrl: standIn.url, log, retryDelaysMs: [60_000] });
  await identity.start();
  expect(identity.problem()).toBe("the app's own Slack identity is not known yet (auth.test: invalid_auth)");
});

test('configured ids win and need no call; a fixed identity without ids is not ready', async () => {
  identity = new SlackIdentity({ configured: { userId: 'U0CONF', botId: 'B0CONF', workspaceUrl: 'https://x.slack.com/' }, botToken: 'xoxb-id-test', apiUrl: standIn.url, log });
  await identity.start();
  expect(identity.current()).toEqual({ userId: 'U0CONF', botId: 'B0CONF', workspaceUrl: 'https://x.slack.com/' });
  expect(standIn.state.calls).toHaveLength(0);
  expect(fixedIdentity({}).current()).toBeUndefined();
});

test('an unreachable Slack is reported by the transport error, without the token', async () => {
  identity = new SlackIdentity({ configured: {}, botToken: 'xoxb-id-test', apiUrl: 'http://127.0.0.1:1/api/', log, retryDelaysMs: [60_000] });
  await identity.start();
  expect(identity.problem()).toBe("the app's own Slack identity is not known yet (auth.test: request failed: ECONNREFUSED)");
  expect(identity.problem()).not.toContain('xoxb');
});
