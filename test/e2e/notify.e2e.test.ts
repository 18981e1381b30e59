/**
 * Notifications end to end, every service as its own process: POST /notify posts once to the tag's channel and
 * pages nobody; an unknown tag is refused; sync answers with the Slack ts; identical notices are both posted;
 * `alertbus notify` and `alertbus run` (spawned as processes) post through ingest; only a rule's `mention`
 * pings anyone, and alert messages link to the incident's page.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { messageNotifications, type SlackStoredMessage } from '@alertbus/stand-ins';
import { dropTestDatabase } from '../support/db';
import { BROADCAST_SECTION, BROADCAST_SECTION_AS_TEXT } from '../support/rich-text-broadcasts';
import { startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const TOKEN = 'e2e-notify-token';
const RULES = `
usergroups:
  sre: S0SRE
tags:
  deploys: { channel: "#deploys", username: "deploy-bot", icon_emoji: ":rocket:" }
  batch: { channel: "#batch", level_channels: { crit: "#batch-crit" } }
rules:
  - name: sre-pages
    match: ['team="sre"']
    mention: ["@sre"]
`;

let full: FullStack;
const CLI = resolve(__dirname, '../../cli/bin/alertbus.js');

const messages = (): SlackStoredMessage[] => full.slack.state.messages;
/** Messages whose attachments or text carry `marker`. */
const withText = (marker: string) => messages().filter((m) => JSON.stringify([m.text, m.attachments ?? [], m.blocks ?? []]).includes(marker));

function post(path: string, body: unknown, token: string | null = TOKEN) {
  return fetch(`${full.stack.url('ingest')}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

/** Runs the CLI as a process, with `stdin` piped in; resolves with its exit code and output. */
function alertbus(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, INGEST_URL: full.stack.url('ingest'), INGEST_TOKEN: TOKEN },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** Long enough for a notification to travel ingest → router → slack-sink if it were going to. */
const settle = () => new Promise((r) => setTimeout(r, 3_000));

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alertbus-notify-'));
  const rules = join(dir, 'rules.yaml');
  writeFileSync(rules, RULES);
  full = await startFullStack(
    { ROUTING_RULES: rules, INGEST_TOKEN: TOKEN, NOTIFY_SYNC_TIMEOUT: '20s', HISTORY_PUBLIC_URL: 'https://alertbus.example' },
    {
      slackChannels: [
        { id: 'C0DEPLOYS', name: 'deploys' },
        { id: 'C0BATCH', name: 'batch' },
        { id: 'C0BATCHCRIT', name: 'batch-crit' },
      ],
      slackUsergroups: [{ id: 'S0SRE', handle: 'sre', users: [] }],
    },
  );
}, 180_000);

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('a notice to a known tag is posted once to its channel, with the tag\'s name and icon, and pages nobody', async () => {
  const res = await post('/notify', { tag: 'deploys', text: 'api v1.2.3 is live <!channel>', title: 'Deploy', level: 'good' });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  const [m] = await waitFor(() => (withText('api v1.2.3 is live').length > 0 ? withText('api v1.2.3 is live') : null), { what: 'the deploy notice' });
  expect(m).toMatchObject({ channel: 'C0DEPLOYS', username: 'deploy-bot', icon_emoji: ':rocket:' });
  expect(m!.thread_ts).toBeUndefined();
  expect((m!.attachments as Array<{ color: string; title: string }>)[0]).toMatchObject({ color: '#2eb886', title: 'Deploy' });
  // The sender's text is data: it pings nobody.
  expect(messageNotifications(m!)).toEqual([]);
  await settle();
  expect(withText('api v1.2.3 is live')).toHaveLength(1);
  expect(full.opsgenie.state.alerts).toEqual([]);
  expect(full.opsgenie.state.calls.filter((c) => c.method !== 'GET')).toEqual([]);
});

test('an unknown tag, a bad level or a missing token is refused, naming the problem', async () => {
  const unknown = await post('/notify', { tag: 'nope', text: 'x' });
  expect(unknown.status).toBe(400);
  const body = (await unknown.json()) as { message: string };
  expect(body.message).toContain('unknown tag "nope"');
  expect(body.message).toContain('batch, deploys');

  const level = await post('/notify', { tag: 'deploys', text: 'x', level: 'fatal' });
  expect(level.status).toBe(400);
  expect(((await level.json()) as { message: string }).message).toMatch(/level.*info, good, warn, crit/);

  expect((await post('/notify', { tag: 'deploys', text: 'x' }, null)).status).toBe(401);
});

test('sync: true answers with the channel and ts of the Slack post', async () => {
  const res = await post('/notify', { tag: 'batch', level: 'crit', text: 'nightly export failed', sync: true });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { id: string; channel: string; ts: string };
  expect(body.channel).toBe('C0BATCHCRIT');
  const posted = messages().find((m) => m.ts === body.ts && m.channel === body.channel);
  expect(posted).toBeDefined();
  expect(JSON.stringify(posted!.attachments)).toContain('nightly export failed');
});

test('a dedupKey makes a second notice of the same tag a duplicate: posted once, and sync says so', async () => {
  const notice = { tag: 'deploys', text: 'nightly report 2c9e', dedupKey: 'report-2026-11-30', sync: true };
  const first = await post('/notify', notice);
  expect(first.status).toBe(200);
  expect(await first.json()).toMatchObject({ channel: 'C0DEPLOYS', ts: expect.any(String) });
  const second = await post('/notify', notice);
  expect(second.status).toBe(200);
  expect(await second.json()).toMatchObject({ duplicate: true });
  await settle();
  expect(withText('nightly report 2c9e')).toHaveLength(1);
});

test('two identical notices are both posted', async () => {
  for (let i = 0; i < 2; i++) expect((await post('/notify', { tag: 'deploys', text: 'identical notice 7f3a' })).status).toBe(202);
  await waitFor(() => withText('identical notice 7f3a').length === 2, { what: 'both identical notices' });
  await settle();
  expect(withText('identical notice 7f3a')).toHaveLength(2);
});

test('POST /notify-directly posts the blocks as sent, and refuses blocks of the wrong shape', async () => {
  const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*direct 91c2* built by the caller' } }];
  expect((await post('/notify-directly', { channel: '#deploys', text: 'direct 91c2', blocks })).status).toBe(202);
  const [m] = await waitFor(() => (withText('direct 91c2').length > 0 ? withText('direct 91c2') : null), { what: 'the direct post' });
  expect(m).toMatchObject({ channel: 'C0DEPLOYS', blocks });

  const bad = await post('/notify-directly', { channel: '#deploys', text: 'x', blocks: [{ text: 'no type' }] });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { message: string }).message).toContain('blocks[0] must have a string "type"');
  const many = await post('/notify-directly', { channel: '#deploys', text: 'x', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) });
  expect(many.status).toBe(400);
});

test('POST /notify-directly: rich_text broadcast and user-group elements reach Slack as text and notify nobody', async () => {
  const blocks = [
    {
      type: 'rich_text',
      elements: [
        BROADCAST_SECTION,
      ],
    },
  ];
  expect((await post('/notify-directly', { channel: '#deploys', text: 'direct2 fallback 3c8d', blocks })).status).toBe(202);
  const [m] = await waitFor(() => (withText('direct2 fallback 3c8d').length > 0 ? withText('direct2 fallback 3c8d') : null), { what: 'the direct post' });
  expect(messageNotifications(m!)).toEqual([]);
  expect(m!.blocks).toEqual([
    {
      type: 'rich_text',
      elements: [
        BROADCAST_SECTION_AS_TEXT,
      ],
    },
  ]);
});

test('`echo text | alertbus notify -t deploys` posts once', async () => {
  const r = await alertbus(['notify', '-t', 'deploys'], 'cron said hello 5d1e\n');
  expect(r).toMatchObject({ code: 0 });
  expect(r.stdout).toMatch(/accepted, id /);
  await waitFor(() => withText('cron said hello 5d1e').length === 1, { what: 'the piped notice' });
  await settle();
  expect(withText('cron said hello 5d1e')).toHaveLength(1);

  const refused = await alertbus(['notify', '-t', 'nope', 'hello']);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('unknown tag "nope"');

  // `alertbus send`, DESIGN's name for the sender, is the same command.
  const sent = await alertbus(['send', '-t', 'deploys', 'sent by name 7c2a']);
  expect(sent).toMatchObject({ code: 0 });
  await waitFor(() => withText('sent by name 7c2a').length === 1, { what: 'the notice sent with `alertbus send`' });
}, 60_000);

test('`alertbus run` exits with the command\'s status and posts a failure with its output; a success posts nothing unless --on always', async () => {
  const failed = await alertbus(['run', '-t', 'deploys', '--', 'sh', '-c', 'echo boom-e2e; exit 3']);
  expect(failed.code).toBe(3);
  expect(failed.stdout).toContain('boom-e2e');
  const [m] = await waitFor(() => (withText('boom-e2e').length > 0 ? withText('boom-e2e') : null), { what: 'the failure notice' });
  const text = JSON.stringify(m!.attachments);
  expect(text).toContain('Exit status:* 3');
  expect(text).toContain("sh -c 'echo boom-e2e; exit 3'");

  const quiet = await alertbus(['run', '-t', 'deploys', '--', 'sh', '-c', 'echo quiet-success-e2e']);
  expect(quiet.code).toBe(0);
  const loud = await alertbus(['run', '-t', 'deploys', '--on', 'always', '--', 'sh', '-c', 'echo loud-success-e2e']);
  expect(loud.code).toBe(0);
  await waitFor(() => withText('loud-success-e2e').length === 1, { what: 'the --on always notice' });
  await settle();
  expect(withText('quiet-success-e2e')).toEqual([]);
  expect(withText('boom-e2e')).toHaveLength(1);
}, 90_000);

test('a rule with mention ["@sre"] pings the group; without mention nothing pings anyone', async () => {
  const alert = (title: string, labels: Record<string, string>) => post('/webhooks/generic', { title, labels });
  expect((await alert('Replication lag 44ab', { team: 'sre' })).status).toBe(202);
  expect((await alert('Queue depth 44ab', { team: 'web' })).status).toBe(202);
  const root = (marker: string) => messages().find((m) => !m.thread_ts && JSON.stringify([m.text, m.blocks]).includes(marker));
  const pinged = await waitFor(() => root('Replication lag 44ab'), { what: 'the sre alert' });
  const quiet = await waitFor(() => root('Queue depth 44ab'), { what: 'the web alert' });
  expect(messageNotifications(pinged)).toEqual(['subteam:S0SRE']);
  expect(messageNotifications(quiet)).toEqual([]);
  // Richer messages: the severity's emoji, and a link to the incident's page (HISTORY_PUBLIC_URL).
  const elements = JSON.stringify(pinged.blocks);
  expect(elements).toMatch(/"url":"https:\/\/alertbus\.example\/\?incident=[0-9a-f-]{36}"/);
  expect(elements).toContain('<!date^');
});

test('history lists notifications with their Slack post, filtered by tag, channel and text', async () => {
  type Listed = { notifications: Array<Record<string, unknown>>; next_cursor: string | null };
  const list = await waitFor(
    async () => {
      const b = await full.json<Listed>('history', `/api/notifications?tag=deploys&q=${encodeURIComponent('api v1.2.3')}`);
      return b.notifications.length === 1 && b.notifications[0]!.slack_ts ? b : null;
    },
    { what: 'the deploy notice in history' },
  );
  expect(list.notifications[0]).toMatchObject({
    kind: 'tag',
    tag: 'deploys',
    level: 'good',
    title: 'Deploy',
    channel: '#deploys',
    slack_channel: 'C0DEPLOYS',
    reason: 'first-notification',
  });
  const crit = await full.json<Listed>('history', `/api/notifications?channel=${encodeURIComponent('#batch-crit')}`);
  expect(crit.notifications.map((n) => n.text)).toEqual(['nightly export failed']);
  const paged = await full.json<Listed>('history', '/api/notifications?tag=deploys&limit=1');
  expect(paged.notifications).toHaveLength(1);
  expect(paged.next_cursor).not.toBeNull();
});
