/**
 * Runs the Slack Web API stand-in on its own, for demos and child-process tests:
 *
 *   SLACK_STAND_IN_PORT=0 npx tsx packages/stand-ins/src/slack/main.ts
 *
 * Prints `SLACK_API_URL=http://127.0.0.1:PORT/api/` on stdout. Env: SLACK_STAND_IN_PORT (default 0),
 * SLACK_STAND_IN_TOKENS (comma-separated; default `xoxb-stand-in` plus SLACK_BOT_TOKEN when set), SLACK_STAND_IN_CHANNELS
 * (`C0ALERTS:alerts,C0OPS:ops`, the default; `npm start -- --stand-ins` adds the channels of the rules in force),
 * SLACK_STAND_IN_USERS (`U0ALICE:alice:alice@example.com,…`, so on-call emails resolve to Slack users; none by
 * default, DEFAULT_SLACK_USERS under `npm start -- --stand-ins`),
 * SLACK_STAND_IN_USERGROUPS (`S0ONCALL:oncall,…`), SLACK_STAND_IN_LATENCY_MS,
 * SLACK_STAND_IN_APP_TOKENS (app-level tokens that may open Socket Mode; default SLACK_APP_TOKEN when set),
 * SLACK_CLIENT_ID / SLACK_CLIENT_SECRET (what oauth.v2.access accepts; default the stand-in's own pair).
 */
import { parseStandInChannels } from './channels';
import { DEFAULT_SLACK_CHANNELS, parseStandInUsers, SLACK_STAND_IN_TOKEN, startSlackStandIn } from './server';

function fail(message: string): never {
  process.stderr.write(`slack stand-in: ${message}\n`);
  process.exit(1);
}

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) fail(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function channelsEnv() {
  const raw = process.env.SLACK_STAND_IN_CHANNELS;
  if (!raw) return DEFAULT_SLACK_CHANNELS;
  try {
    return parseStandInChannels(raw);
  } catch (err) {
    return fail((err as Error).message);
  }
}

function usersEnv() {
  const raw = process.env.SLACK_STAND_IN_USERS;
  if (!raw) return [];
  try {
    return parseStandInUsers(raw);
  } catch (err) {
    return fail((err as Error).message);
  }
}

function usergroupsEnv() {
  const raw = process.env.SLACK_STAND_IN_USERGROUPS;
  if (!raw) return [];
  return raw.split(',').map((entry) => {
    const [id, handle] = entry.trim().split(':');
    if (!id || !handle) fail(`SLACK_STAND_IN_USERGROUPS entries must be ID:handle, got "${entry}"`);
    return { id, handle, users: [] };
  });
}

async function main(): Promise<void> {
  const port = intEnv('SLACK_STAND_IN_PORT', 0);
  if (port > 65535) fail('SLACK_STAND_IN_PORT must be ≤ 65535');
  // Accepts the token the sinks were given, so `npm start -- --stand-ins` works with or without SLACK_BOT_TOKEN.
  const configured = process.env.SLACK_STAND_IN_TOKENS ?? [SLACK_STAND_IN_TOKEN, process.env.SLACK_BOT_TOKEN ?? ''].join(',');
  const tokens = configured.split(',').map((t) => t.trim()).filter(Boolean);
  const standIn = await startSlackStandIn({
    port,
    host: process.env.SLACK_STAND_IN_HOST ?? '127.0.0.1',
    tokens,
    channels: channelsEnv(),
    users: usersEnv(),
    usergroups: usergroupsEnv(),
    latencyMs: intEnv('SLACK_STAND_IN_LATENCY_MS', 0),
    appTokens: (process.env.SLACK_STAND_IN_APP_TOKENS ?? process.env.SLACK_APP_TOKEN ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    ...(process.env.SLACK_CLIENT_ID && process.env.SLACK_CLIENT_SECRET
      ? { oauth: { clientId: process.env.SLACK_CLIENT_ID, clientSecret: process.env.SLACK_CLIENT_SECRET } }
      : {}),
  });
  process.stdout.write(`SLACK_API_URL=${standIn.url}\n`);
  const stop = () => void standIn.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err) => fail((err as Error).message));
