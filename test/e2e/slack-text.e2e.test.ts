/**
 * Nobody is pinged, and no link is hidden, by what an alert or a Slack request says: end to end over HTTP with
 * every service as its own process, an alert written as Slack markup reaches the Slack stand-in escaped in every
 * field of every call (root post, thread replies, root updates on ack and resolve), a Slack request quoting the
 * same is answered escaped, a rule's `mention` pings exactly its user group, and a backtracking-prone rule decides
 * its alerts like any other.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageLinks, messageNotifications, mrkdwnTexts, type SlackStoredMessage } from '@alertbus/stand-ins';
import { dropTestDatabase } from '../support/db';
import { slackHeaders } from '../support/slack-requests';
import { startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const SECRET = 'e2e-slack-text-signing-secret';
const TEAM = 'T0ALERTBUS';
const APP_USER = 'U0ALERTBUS';
/** What a sender might write, hoping Slack pings people or hides a link behind a friendly word. */
const HOSTILE = 'disk full <!channel> <!here> <@U123> <https://evil.example|Acknowledge>';
const HOSTILE_ESCAPED = 'disk full &lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;https://evil.example|Acknowledge&gt;';
const RUNBOOK = 'https://runbooks.example/disk?a=1&b=2';

const RULES = `
usergroups:
  sre: S0SRE
rules:
  - name: sre-pages
    match: ['team="sre"']
    mention: ["@sre"]
  - name: backtracking-prone
    match: ['host=~"(a|a)*b"']
    slack: { channel: "#ops" }
  - name: generic
    match: ['source="generic"']
    repeat_interval: 1s
`;

let full: FullStack;

type StandInMessage = SlackStoredMessage;
type Button = { action_id?: string; value?: string; text?: unknown; block_id?: string };

/** The buttons of a message's actions blocks, as Slack sends them back with a click. */
const buttonsOf = (m: StandInMessage): Button[] =>
  ((m.blocks ?? []) as Array<{ type: string; block_id?: string; elements?: Button[] }>).flatMap((b) =>
    b.type === 'actions' ? (b.elements ?? []).map((e) => ({ ...e, block_id: b.block_id })) : [],
  );
interface Sent {
  method: string;
  text: string;
  blocks?: unknown[];
  threadTs?: string;
  ts?: string;
  incidentId?: string;
}

const messages = () => full.slack.state.messages;

/** Every chat.postMessage / chat.update the stand-in answered, as sent (form fields parsed as Slack parses them). */
function sent(): Sent[] {
  const parse = (v: unknown) => (typeof v === 'string' ? (JSON.parse(v) as unknown) : v);
  return full.slack.state.calls
    .filter((c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.status === 200 && !c.error)
    .map((c) => {
      const metadata = parse(c.args.metadata) as { event_payload?: { incident_id?: string } } | undefined;
      return {
        method: c.method,
        text: String(c.args.text ?? ''),
        ...(c.args.blocks !== undefined ? { blocks: parse(c.args.blocks) as unknown[] } : {}),
        ...(typeof c.args.thread_ts === 'string' ? { threadTs: c.args.thread_ts } : {}),
        ...(typeof c.args.ts === 'string' ? { ts: c.args.ts } : {}),
        ...(metadata?.event_payload?.incident_id ? { incidentId: metadata.event_payload.incident_id } : {}),
      };
    });
}

async function postAlert(alert: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${full.stack.url('ingest')}/webhooks/generic`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alert),
  });
  expect(res.status).toBe(202);
}

const rootOf = (alias: string) =>
  waitFor(() => messages().find((m) => !m.thread_ts && m.user === APP_USER && JSON.stringify(m.blocks ?? []).includes(`alias \`${alias}\``)), {
    what: `the root message of ${alias}`,
  });

const incidentIdOf = (root: StandInMessage) => {
  const button = buttonsOf(root).find((e) => e.action_id === 'alertbus_ack')!;
  return (JSON.parse(button.value!) as { incidentId: string }).incidentId;
};

async function click(root: StandInMessage, actionId: string, user: string): Promise<void> {
  const button = buttonsOf(root).find((e) => e.action_id === actionId)!;
  const payload = {
    type: 'block_actions',
    team: { id: TEAM, domain: 'alertbus-stand-in' },
    user: { id: user, username: 'alice', name: 'alice', team_id: TEAM },
    api_app_id: 'A0ALERTBUS',
    container: { type: 'message', message_ts: root.ts, channel_id: root.channel, is_ephemeral: false },
    channel: { id: root.channel, name: 'alerts' },
    message: { type: 'message', user: APP_USER, text: root.text, ts: root.ts, blocks: root.blocks },
    response_url: 'https://hooks.slack.com/actions/T0ALERTBUS/1/abc',
    trigger_id: '1.2.3',
    actions: [{ type: 'button', action_id: actionId, block_id: button.block_id, text: button.text, value: button.value, action_ts: `${Math.floor(Date.now() / 1000)}.000001` }],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const res = await fetch(`${full.stack.url('ingest')}/slack/interactions`, { method: 'POST', headers: slackHeaders(body, SECRET, { contentType: 'application/x-www-form-urlencoded' }), body });
  expect(res.status).toBe(200);
}

async function mentionApp(channel: string, user: string, text: string, threadTs?: string): Promise<StandInMessage> {
  const m = full.slack.state.addMessage({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) });
  const body = JSON.stringify({
    token: 'legacy',
    team_id: TEAM,
    api_app_id: 'A0ALERTBUS',
    type: 'event_callback',
    event_id: `Ev${m.ts.replace('.', '')}`,
    event_time: Math.floor(Number(m.ts)),
    authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: APP_USER, is_bot: true, is_enterprise_install: false }],
    event: { type: 'app_mention', user, text, ts: m.ts, event_ts: m.ts, channel, team: TEAM, ...(threadTs ? { thread_ts: threadTs } : {}) },
  });
  const res = await fetch(`${full.stack.url('ingest')}/slack/events`, { method: 'POST', headers: slackHeaders(body, SECRET), body });
  expect(res.status).toBe(200);
  return m;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alertbus-slack-text-e2e-'));
  const rulesPath = join(dir, 'rules.yaml');
  writeFileSync(rulesPath, RULES);
  full = await startFullStack(
    { SLACK_SIGNING_SECRET: SECRET, ROUTING_RULES: rulesPath, ONCALL_SCHEDULE: 'ops' },
    {
      slackChannels: [{ id: 'C0OPS', name: 'ops' }],
      slackUsers: [{ id: 'U0ALICE', name: 'alice', email: 'alice@example.com' }],
      slackUsergroups: [{ id: 'S0SRE', handle: 'sre', users: ['U0ALICE'] }],
      onCall: { ops: ['alice@example.com'] },
    },
  );
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('an alert written as Slack markup reaches Slack escaped in every field: root post, replies, root updates on ack and resolve', async () => {
  const alert = {
    alias: 'e2e-hostile',
    title: HOSTILE,
    severity: 'critical',
    description: `${HOSTILE}\nsee the runbook`,
    labels: { host: HOSTILE, '<!here>': '<@U123>' },
    annotations: { summary: HOSTILE },
    links: [{ title: '<!channel> Runbook', url: RUNBOOK }],
  };
  await postAlert(alert);
  const root = await rootOf('generic:e2e-hostile');
  const incidentId = incidentIdOf(root);

  // A repeat after the rule's 1s repeat interval: a "Still firing" reply.
  await new Promise((r) => setTimeout(r, 1_100));
  await postAlert(alert);
  await waitFor(() => messages().some((m) => m.thread_ts === root.ts && m.text.startsWith('Still firing')), { what: 'the repeat reply' });

  // Acknowledge (a signed click) and resolve at the source: a reply and a root update each.
  await click(root, 'alertbus_ack', 'U0ALICE');
  await waitFor(() => sent().filter((s) => s.method === 'chat.update' && s.ts === root.ts).length >= 1, { what: 'the root updated on ack' });
  await postAlert({ ...alert, status: 'resolved' });
  await waitFor(() => sent().filter((s) => s.method === 'chat.update' && s.ts === root.ts).length >= 2, { what: 'the root updated on resolve' });

  const calls = sent().filter((s) => s.incidentId === incidentId || (s.method === 'chat.update' && s.ts === root.ts));
  const posts = calls.filter((s) => s.method === 'chat.postMessage');
  expect(posts.map((s) => s.text)).toEqual([
    `[FIRING] ${HOSTILE_ESCAPED} (critical, generic)`,
    expect.stringMatching(/^Still firing: disk full &lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;https:\/\/evil\.example\|Acknowledge&gt; \(received 2 times since /),
    'Acknowledged by <@U0ALICE>.',
    `Resolved: ${HOSTILE_ESCAPED} (fired 2 times)`,
  ]);
  const updates = calls.filter((s) => s.method === 'chat.update');
  expect(updates.map((s) => s.text)).toEqual([`[ACKNOWLEDGED] ${HOSTILE_ESCAPED} (critical, generic)`, `[RESOLVED] ${HOSTILE_ESCAPED} (critical, generic)`]);

  for (const s of calls) {
    // Who each call would notify in a real workspace: nobody, except the person who acknowledged (named from Slack's click).
    expect(messageNotifications(s).filter((n) => n !== 'user:U0ALICE')).toEqual([]);
    // Where it links: the alert's own runbook only (its label escaped), never the disguised link.
    for (const l of messageLinks(s)) expect(l).toEqual({ url: 'https://runbooks.example/disk?a=1&amp;b=2', label: '&lt;!channel&gt; Runbook' });
    // Every mrkdwn string that shows the title shows it escaped.
    for (const t of mrkdwnTexts(s)) if (t.includes('disk full')) expect(t).toContain(HOSTILE_ESCAPED);
  }
  const rootPost = posts[0]!;
  const blocksText = mrkdwnTexts(rootPost).join('\n');
  expect(blocksText).toContain(`${HOSTILE_ESCAPED}\nsee the runbook`); // the description
  expect(blocksText).toContain(`• &lt;!here&gt;: &lt;@U123&gt;\n• host: ${HOSTILE_ESCAPED}`); // label names and values
  expect(messageLinks(rootPost)).toHaveLength(1);
  expect(messageNotifications(rootPost)).toEqual([]);
  const ackUpdate = updates[0]!;
  expect(messageNotifications(ackUpdate)).toEqual(['user:U0ALICE']); // "Acknowledged <@U0ALICE> at …"
});

test('a Slack request quoting the same markup is answered escaped: the on-call answer, a command reply, the resolve reply', async () => {
  const request = await mentionApp('C0OPS', 'U0ALICE', `<@${APP_USER}> ${HOSTILE}`);
  await waitFor(() => messages().filter((m) => m.thread_ts === request.ts && m.user === APP_USER).length >= 2, { what: 'the on-call answer' });
  await mentionApp('C0OPS', 'U0ALICE', `<@${APP_USER}> resolve`, request.ts);
  await waitFor(() => messages().some((m) => m.thread_ts === request.ts && m.text.startsWith('Resolved by')), { what: 'the resolve reply' });
  const schedule = await mentionApp('C0OPS', 'U0ALICE', `<@${APP_USER}> oncall "<!here>"`);
  await waitFor(() => messages().filter((m) => m.thread_ts === schedule.ts && m.user === APP_USER).length >= 2, { what: 'the answer for an unknown schedule' });

  const thread = (ts: string) => messages().filter((m) => m.thread_ts === ts && m.user === APP_USER).map((m) => m.text);
  expect(thread(request.ts)).toEqual([
    'Looking for the on-call of *ops*…',
    'On call for *ops*: <@U0ALICE>', // the on-call: the point of the answer
    `Resolved by <@U0ALICE>: ${HOSTILE_ESCAPED}`,
  ]);
  expect(thread(schedule.ts)[0]).toBe('Looking for the on-call of *&lt;!here&gt;*…');
  expect(thread(schedule.ts)[1]).toMatch(/^I could not find out who is on call for \*&lt;!here&gt;\*: /);
  for (const m of messages().filter((x) => x.user === APP_USER && (x.thread_ts === request.ts || x.thread_ts === schedule.ts))) {
    expect(messageNotifications(m).filter((n) => n !== 'user:U0ALICE')).toEqual([]);
    expect(messageLinks(m)).toEqual([]);
  }
});

test("a rule's mention pings its user group in the root post, and nowhere else", async () => {
  await postAlert({ alias: 'e2e-sre', title: 'replication lag', labels: { team: 'sre' } });
  const root = await rootOf('generic:e2e-sre');
  const incidentId = incidentIdOf(root);
  const post = sent().find((s) => s.method === 'chat.postMessage' && s.incidentId === incidentId && !s.threadTs)!;
  expect(messageNotifications(post)).toEqual(['subteam:S0SRE']);
  expect(post.text).toBe('<!subteam^S0SRE> [FIRING] replication lag (unknown, generic)');

  await postAlert({ alias: 'e2e-sre', title: 'replication lag', labels: { team: 'sre' }, status: 'resolved' });
  await waitFor(() => sent().some((s) => s.method === 'chat.update' && s.ts === root.ts), { what: 'the root updated on resolve' });
  const later = sent().filter((s) => (s.incidentId === incidentId && s.threadTs) || (s.method === 'chat.update' && s.ts === root.ts));
  expect(later.length).toBeGreaterThanOrEqual(2);
  for (const s of later) expect(messageNotifications(s)).toEqual([]);
});

test('a rule host=~"(a|a)*b" decides a host of 40 a\'s as it decides any other alert', async () => {
  // With JavaScript's RegExp this one alert would hold the router for hours, and every alert behind it.
  await postAlert({ alias: 'e2e-backtrack', title: 'backtracking bait', labels: { host: 'a'.repeat(40) } });
  await postAlert({ alias: 'e2e-matches', title: 'matches the rule', labels: { host: 'aaab' } });
  const bait = await rootOf('generic:e2e-backtrack');
  const matched = await rootOf('generic:e2e-matches');
  expect(bait.channel).toBe('C0ALERTS'); // no match: the next rule's (default) channel
  expect(matched.channel).toBe('C0OPS'); // the rule's channel
});
