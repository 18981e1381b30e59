/**
 * Requests as Slack sends them to ingest, for the end-to-end tests: signed headers, and a button click on a root
 * message the stand-in holds.
 */
import { createHmac } from 'node:crypto';
import { fixture } from './fixtures';

/** The workspace and app the e2e stacks are set up with. */
export const E2E_TEAM = 'T0ALERTBUS';
export const E2E_APP = { userId: 'U0ALERTBUS', botId: 'B0ALERTBUS', appId: 'A0ALERTBUS' };

/** A message as the Slack stand-in keeps it (the fields the tests read). */
export interface StandInMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  user: string;
  blocks?: Array<{ type: string; block_id?: string; elements?: Array<{ action_id?: string; value?: string; text?: unknown }> }>;
  updates?: number;
}

/**
 * Headers Slack sends with a body: the v0 signature over `v0:{timestamp}:{body}` with `secret`; `age` makes the
 * timestamp that many seconds older, `retryNum` marks a redelivery.
 */
export function slackHeaders(
  body: string,
  secret: string,
  opts: { age?: number; retryNum?: number; contentType?: string } = {},
): Record<string, string> {
  const ts = String(Math.floor(Date.now() / 1000) - (opts.age ?? 0));
  return {
    'content-type': opts.contentType ?? 'application/json',
    'x-slack-request-timestamp': ts,
    'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`,
    ...(opts.retryNum !== undefined ? { 'x-slack-retry-num': String(opts.retryNum), 'x-slack-retry-reason': 'http_timeout' } : {}),
  };
}

let clicks = 0;

/** A click on one of the root message's buttons, from the block_actions fixture, with the button as Slack sends it back. */
export function buttonClick(root: StandInMessage, actionId: string, user: { id: string; username: string }) {
  const button = root.blocks!.flatMap((b) => (b.type === 'actions' ? (b.elements ?? []).map((e) => ({ ...e, block_id: b.block_id })) : [])).find((e) => e.action_id === actionId);
  if (!button) throw new Error(`the root message has no ${actionId} button: ${JSON.stringify(root.blocks)}`);
  const p = fixture<Record<string, any>>('slack/block_actions_button_docs_example.json'); // eslint-disable-line @typescript-eslint/no-explicit-any
  p.team = { id: E2E_TEAM, domain: 'alertbus-stand-in' };
  p.user = { id: user.id, username: user.username, name: user.username, team_id: E2E_TEAM };
  p.api_app_id = E2E_APP.appId;
  p.container = { type: 'message', message_ts: root.ts, channel_id: root.channel, is_ephemeral: false };
  p.channel = { id: root.channel, name: 'alerts' };
  p.message = { type: 'message', user: E2E_APP.userId, bot_id: E2E_APP.botId, text: root.text, ts: root.ts, blocks: root.blocks };
  p.actions = [{ ...p.actions[0], action_id: button.action_id, block_id: button.block_id, text: button.text, value: button.value, action_ts: `${Math.floor(Date.now() / 1000)}.00000${++clicks % 10}` }];
  return p;
}
