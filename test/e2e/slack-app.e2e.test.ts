/**
 * The Slack app behind a firewall and in several workspaces, end to end with every service as its own
 * process: ingest has no signing secret (no public request URL) and receives over Socket Mode from the
 * Slack stand-in; workspaces are installed through the OAuth flow a browser would go through, and each is
 * answered with its own bot token (the stand-in records which token made every call).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { decryptToken, parseTokenKey } from '@alertbus/slack-installs';
import { SLACK_STAND_IN_OAUTH, tokenFingerprint, type SocketEnvelope } from '@alertbus/stand-ins';
import { dropTestDatabase } from '../support/db';
import { freePort, startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const fixture = (p: string) => JSON.parse(readFileSync(resolve(__dirname, '../../../shared/fixtures', p), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const APP_TOKEN = `xapp-1-A0ALERTBUS-${randomBytes(6).toString('hex')}`;
const TOKEN_KEY = randomBytes(32).toString('base64');
/** The SLACK_BOT_TOKEN workspace: the stand-in's own. */
const DEFAULT_TEAM = 'T0ALERTBUS';
const DEFAULT_BOT = 'U0ALERTBUS';

let full: FullStack;
let ingest: string;
let unique = 0;

interface Posted {
  channel: string;
  thread_ts?: string;
  text: string;
}

beforeAll(async () => {
  const port = await freePort();
  ingest = `http://127.0.0.1:${port}`;
  full = await startFullStack(
    {
      INGEST_PORT: String(port),
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_SIGNING_SECRET: '',
      SLACK_CLIENT_ID: SLACK_STAND_IN_OAUTH.clientId,
      SLACK_CLIENT_SECRET: SLACK_STAND_IN_OAUTH.clientSecret,
      SLACK_TOKEN_KEY: TOKEN_KEY,
      SLACK_REDIRECT_URL: `${ingest}/slack/oauth_redirect`,
      SLACK_ALLOWED_TEAMS: `${DEFAULT_TEAM},T0ONE,T0TWO,T0THREE,T0FOUR`,
    },
    { slackAppTokens: [APP_TOKEN] },
  );
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

/** A message someone wrote (so the app can answer in its thread). */
const humanMessage = (text: string) => full.slack.state.addMessage({ channel: 'C0ALERTS', user: 'U0ALICE', text });

/** The Socket Mode envelope of the fixture, carrying an app_mention of the given message in the given team. */
function mentionEnvelope(team: string, m: { ts: string; text: string }, eventId = `Ev${++unique}SOCKET`): SocketEnvelope {
  const e = fixture('slack/socket_mode_envelope_app_mention.json');
  e.envelope_id = `env-${++unique}-${randomBytes(4).toString('hex')}`;
  e.payload.team_id = team;
  e.payload.event_id = eventId;
  e.payload.event_time = Math.floor(Number(m.ts));
  e.payload.authorizations = [{ team_id: team, is_bot: true }];
  Object.assign(e.payload.event, { text: m.text, user: 'U0ALICE', ts: m.ts, event_ts: m.ts, channel: 'C0ALERTS', team });
  delete e.payload.event.blocks;
  return e as SocketEnvelope;
}

const acked = (id: string) => full.slack.socket.acks.some((a) => a.envelope_id === id);
/** The chat.postMessage calls that answered in a thread, with who made them. */
const threadPosts = (threadTs: string) =>
  full.slack.state.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200 && !c.error && (c.args as unknown as Posted).thread_ts === threadTs);

/** Goes through the install as a browser would: /slack/install → Slack's consent page (the stand-in's, for `team`) → back. */
async function install(team: string): Promise<Response> {
  const start = await fetch(`${ingest}/slack/install`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const cookie = start.headers.get('set-cookie')!.split(';')[0]!;
  const consent = new URL(start.headers.get('location')!);
  consent.searchParams.set('team', team);
  const back = await fetch(consent, { redirect: 'manual' });
  expect(back.status).toBe(302);
  return fetch(back.headers.get('location')!, { headers: { cookie }, redirect: 'manual' });
}

async function installationRow(team: string): Promise<{ token_ciphertext: string; bot_user_id: string } | undefined> {
  const c = new Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  try {
    const { rows } = await c.query('SELECT token_ciphertext, bot_user_id FROM slack_installations WHERE team_id = $1', [team]);
    return rows[0];
  } finally {
    await c.end();
  }
}

const tokenOf = (team: string) => [...full.slack.state.teamsByToken.entries()].filter(([, t]) => t.teamId === team).map(([token]) => token).pop()!;

test('over Socket Mode, with no public endpoint, a mention is answered in its thread exactly once and every envelope is acknowledged', async () => {
  // No request URL: the HTTP endpoint is not even configured.
  expect((await fetch(`${ingest}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(503);
  expect(full.slack.socket.connections).toBe(1);

  const m = humanMessage(`<@${DEFAULT_BOT}> help`);
  const first = mentionEnvelope(DEFAULT_TEAM, m, 'Ev1DUP');
  // Slack delivers the same event again under another envelope id (it had not seen the first ack).
  const again = { ...mentionEnvelope(DEFAULT_TEAM, m, 'Ev1DUP'), retry_attempt: 1, retry_reason: 'timeout' };
  expect(full.slack.socket.push(first)).toBe(1);
  expect(full.slack.socket.push(again)).toBe(1);

  await waitFor(() => acked(first.envelope_id) && acked(again.envelope_id), { what: 'both envelopes acknowledged' });
  await waitFor(() => threadPosts(m.ts).length > 0, { what: 'the reply in the thread' });
  await new Promise((r) => setTimeout(r, 4_000)); // time for a second reply, were there one
  const posts = threadPosts(m.ts);
  expect(posts).toHaveLength(1);
  expect((posts[0]!.args as unknown as Posted).channel).toBe('C0ALERTS');
  expect(posts[0]!.tokenFingerprint).toBe(tokenFingerprint('xoxb-e2e'));
  const ready = await fetch(`${ingest}/readyz`);
  expect(ready.status).toBe(200);
});

test('two workspaces installed through OAuth each get their replies with their own token', async () => {
  for (const team of ['T0ONE', 'T0TWO']) {
    const res = await install(team);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('alertbus is installed');
  }
  const one = tokenOf('T0ONE');
  const two = tokenOf('T0TWO');
  expect(one).not.toBe(two);

  const row = await installationRow('T0ONE');
  expect(row!.bot_user_id).toBe('U0BOT0ONE');
  // Encrypted at rest: not the token, but it is the token under SLACK_TOKEN_KEY (bound to its team).
  expect(row!.token_ciphertext).not.toContain(one);
  expect(row!.token_ciphertext).not.toContain(one.slice(5));
  expect(decryptToken(parseTokenKey(TOKEN_KEY), 'T0ONE', row!.token_ciphertext)).toBe(one);
  expect(() => decryptToken(parseTokenKey(TOKEN_KEY), 'T0TWO', row!.token_ciphertext)).toThrow();

  const m1 = humanMessage('<@U0BOT0ONE> help');
  const m2 = humanMessage('<@U0BOT0TWO> help');
  const e1 = mentionEnvelope('T0ONE', m1);
  const e2 = mentionEnvelope('T0TWO', m2);
  full.slack.socket.push(e1);
  full.slack.socket.push(e2);
  await waitFor(() => threadPosts(m1.ts).length > 0 && threadPosts(m2.ts).length > 0, { what: 'a reply in each workspace' });
  expect(threadPosts(m1.ts).map((c) => [c.team, c.tokenFingerprint])).toEqual([['T0ONE', tokenFingerprint(one)]]);
  expect(threadPosts(m2.ts).map((c) => [c.team, c.tokenFingerprint])).toEqual([['T0TWO', tokenFingerprint(two)]]);
  expect(acked(e1.envelope_id) && acked(e2.envelope_id)).toBe(true);

  // Secrets stay out of every service's output.
  for (const service of ['ingest', 'slack-sink', 'router'] as const) {
    const out = full.stack.output(service);
    for (const secret of [one, two, APP_TOKEN, SLACK_STAND_IN_OAUTH.clientSecret, TOKEN_KEY]) expect(out).not.toContain(secret);
  }
});

test('an install whose state does not match is refused; an uninstall deletes the workspace token', async () => {
  // The state of one install with the cookie of another browser's install.
  const a = await fetch(`${ingest}/slack/install`, { redirect: 'manual' });
  const b = await fetch(`${ingest}/slack/install`, { redirect: 'manual' });
  const stateOfA = new URL(a.headers.get('location')!).searchParams.get('state')!;
  const cookieOfB = b.headers.get('set-cookie')!.split(';')[0]!;
  const redirect = (q: Record<string, string>, cookie = cookieOfB) =>
    fetch(`${ingest}/slack/oauth_redirect?${new URLSearchParams(q)}`, { headers: { cookie }, redirect: 'manual' });
  expect((await redirect({ code: 'whatever', state: stateOfA })).status).toBe(403);
  expect((await redirect({ code: 'whatever', state: `${stateOfA.slice(0, -2)}xx` }, a.headers.get('set-cookie')!.split(';')[0]!)).status).toBe(403);
  expect((await redirect({ code: 'whatever' })).status).toBe(400);
  expect(await installationRow('T0THREE')).toBeUndefined();

  expect((await install('T0THREE')).status).toBe(200);
  expect(await installationRow('T0THREE')).toBeDefined();
  const uninstall: SocketEnvelope = {
    envelope_id: `env-uninstall-${++unique}`,
    type: 'events_api',
    accepts_response_payload: false,
    payload: {
      type: 'event_callback',
      team_id: 'T0THREE',
      api_app_id: 'A0ALERTBUS',
      event_id: `Ev${++unique}UNINSTALL`,
      event_time: Math.floor(Date.now() / 1000) + 1,
      event: { type: 'app_uninstalled' },
    },
  };
  full.slack.socket.push(uninstall);
  await waitFor(() => acked(uninstall.envelope_id), { what: 'the uninstall acknowledged' });
  expect(await installationRow('T0THREE')).toBeUndefined();
  // The other workspaces are untouched.
  expect(await installationRow('T0ONE')).toBeDefined();

  // tokens_revoked: only user tokens revoked → the bot token stays; the bot's revoked → it goes.
  expect((await install('T0FOUR')).status).toBe(200);
  const revoked = (tokens: Record<string, string[]>): SocketEnvelope => ({
    envelope_id: `env-revoked-${++unique}`,
    type: 'events_api',
    payload: { type: 'event_callback', team_id: 'T0FOUR', event_id: `Ev${++unique}REVOKED`, event_time: Math.floor(Date.now() / 1000) + 1, event: { type: 'tokens_revoked', tokens } },
  });
  const userOnly = revoked({ oauth: ['U0ALICE'], bot: [] });
  full.slack.socket.push(userOnly);
  await waitFor(() => acked(userOnly.envelope_id), { what: 'tokens_revoked (user) acknowledged' });
  expect(await installationRow('T0FOUR')).toBeDefined();
  const bot = revoked({ bot: ['U0BOT0FOUR'] });
  full.slack.socket.push(bot);
  await waitFor(() => acked(bot.envelope_id), { what: 'tokens_revoked (bot) acknowledged' });
  expect(await installationRow('T0FOUR')).toBeUndefined();
});

test('SLACK_ALLOWED_TEAMS: an install into another workspace is refused and its token not kept; a mention from there is acknowledged and not answered', async () => {
  const res = await install('T0OUTSIDER');
  expect(res.status).toBe(403);
  expect(await res.text()).toContain('SLACK_ALLOWED_TEAMS');
  expect(await installationRow('T0OUTSIDER')).toBeUndefined();

  const m = humanMessage(`<@${DEFAULT_BOT}> help`);
  const outside = mentionEnvelope('T0OUTSIDER', m);
  full.slack.socket.push(outside);
  await waitFor(() => acked(outside.envelope_id), { what: 'the envelope acknowledged' });
  await new Promise((r) => setTimeout(r, 3_000)); // time for a reply, were there one
  expect(threadPosts(m.ts)).toEqual([]);
});
