/** The stand-in's OAuth install flow and Socket Mode endpoint, driven with the real Slack SDK clients. */
import { LogLevel, WebClient } from '@slack/web-api';
import { SocketModeClient } from '@slack/socket-mode';
import { SLACK_STAND_IN_OAUTH, startSlackStandIn, tokenFingerprint, type SlackStandIn } from './server';

let standIn: SlackStandIn;
const base = () => standIn.url.replace(/\/api\/$/, '');
const web = (token?: string) => new WebClient(token, { slackApiUrl: standIn.url, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });

beforeEach(async () => {
  standIn = await startSlackStandIn({ appTokens: ['xapp-1-test'] });
});
afterEach(async () => {
  await standIn.close();
});

async function authorize(team: string, state = 's1'): Promise<URL> {
  const q = new URLSearchParams({ client_id: SLACK_STAND_IN_OAUTH.clientId, scope: 'chat:write', state, redirect_uri: 'http://app.test/cb', team });
  const res = await fetch(`${base()}/oauth/v2/authorize?${q}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

test('the authorize page redirects back with a code and the state; the code buys one token of that team, once', async () => {
  const back = await authorize('T0ONE', 'state-xyz');
  expect(back.origin + back.pathname).toBe('http://app.test/cb');
  expect(back.searchParams.get('state')).toBe('state-xyz');
  const code = back.searchParams.get('code')!;
  const { clientId, clientSecret } = SLACK_STAND_IN_OAUTH;

  await expect(web().oauth.v2.access({ client_id: clientId, client_secret: 'wrong', code, redirect_uri: 'http://app.test/cb' })).rejects.toMatchObject({
    data: { error: 'bad_client_secret' },
  });
  const res = await web().oauth.v2.access({ client_id: clientId, client_secret: clientSecret, code, redirect_uri: 'http://app.test/cb' });
  expect(res.team?.id).toBe('T0ONE');
  expect(res.access_token).toMatch(/^xoxb-T0ONE-/);
  await expect(web().oauth.v2.access({ client_id: clientId, client_secret: clientSecret, code, redirect_uri: 'http://app.test/cb' })).rejects.toMatchObject({
    data: { error: 'invalid_code' },
  });

  // The minted token works, says who it is, and every call made with it is recorded with its team.
  const me = await web(res.access_token).auth.test();
  expect(me.team_id).toBe('T0ONE');
  expect(me.user_id).toBe(res.bot_user_id);
  await web(res.access_token).chat.postMessage({ channel: 'C0ALERTS', text: 'hi' });
  const post = standIn.state.calls.find((c) => c.method === 'chat.postMessage')!;
  expect(post.team).toBe('T0ONE');
  expect(post.tokenFingerprint).toBe(tokenFingerprint(res.access_token!));
  expect(JSON.stringify(standIn.state.calls)).not.toContain(res.access_token);
});

test('Socket Mode: apps.connections.open gives a socket that says hello, carries envelopes and records acks', async () => {
  await expect(web('xoxb-stand-in').apps.connections.open()).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
  const client = new SocketModeClient({ appToken: 'xapp-1-test', clientOptions: { slackApiUrl: standIn.url }, logLevel: LogLevel.ERROR });
  const got: string[] = [];
  client.on('slack_event', async ({ ack, envelope_id, type }) => {
    got.push(`${type}:${envelope_id}`);
    await ack();
  });
  await client.start();
  try {
    expect(standIn.socket.connections).toBe(1);
    expect(standIn.socket.push({ envelope_id: 'e-1', type: 'events_api', payload: { event: { type: 'app_mention' } } })).toBe(1);
    for (let i = 0; i < 50 && standIn.socket.acks.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['events_api:e-1']);
    expect(standIn.socket.acks.map((a) => a.envelope_id)).toEqual(['e-1']);
  } finally {
    await client.disconnect();
  }
});
