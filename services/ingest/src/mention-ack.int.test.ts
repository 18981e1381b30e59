/**
 * `@alertbus ack <alias>` written in a channel, through ingest and the router (its own process) on the real broker:
 * ingest keys the mention by the alias it names, and the router acts on that incident as `/alertbus ack <alias>`
 * would, `permissions:` included, once however often Slack delivers it; an alias nobody knows is told to the writer.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { fixtureText } from '../../../test/support/fixtures';
import { readTopic } from '../../../test/support/kafka';
import { Stack } from '../../../test/support/stack';
import { waitFor } from '../../../test/support/wait';
import { fixedIdentity } from './slack/identity';
import { slackSignature } from './slack/signature';
import { request, type Target } from './test-support/http';
import { ingestRig } from './test-support/rig';

const SECRET = 'mention-ack-signing-secret-3c9d';
/** The fixture's writer, whom the rules let acknowledge; anyone else is a viewer. */
const OPERATOR = 'UUUUUXXXXX';
const VIEWER = 'U0VIEWER';
const CHANNEL = 'C123';
/** The first alert of alertmanager/zulip_firing_two_alerts.json. */
const A = 'alertmanager:a1bc48475b20e73d';

const rig = ingestRig('ingest-mention-ack');
let stack: Stack | undefined;

beforeAll(async () => {
  const rules = join(mkdtempSync(join(tmpdir(), 'mention-ack-')), 'rules.yaml');
  writeFileSync(rules, `defaults:\n  oncall: { schedule: ops }\npermissions:\n  default: viewer\n  users:\n    ${OPERATOR}: operator\n`);
  stack = new Stack({ ROUTING_RULES: rules });
  await stack.start('router');
});

afterAll(async () => {
  await stack?.stopAll();
});

/** The fixture's app_mention with this text, ts and writer (a new event_id, as Slack gives each message). */
function mentionBody(text: string, ts: string, user = OPERATOR): string {
  const f = JSON.parse(fixtureText('slack/event_callback_app_mention.json')) as { event: Record<string, unknown> };
  const { blocks: _blocks, ...event } = f.event;
  return JSON.stringify({ ...f, event_id: `Ev${ts.replace('.', '')}`, event: { ...event, text: `<@U123> ${text}`, ts, event_ts: ts, user } });
}

/** A Slack ts written now (seconds since the epoch, as Slack writes it): after the incident opened, as a real one is. */
const tsNow = (n: number) => `${Math.floor(Date.now() / 1000) + 1}.00000${n}`;

function signed(body: string, extra: Record<string, string> = {}): Record<string, string> {
  const ts = String(Math.floor(Date.now() / 1000));
  return { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, ts, Buffer.from(body, 'utf8')), ...extra };
}

async function postMention(app: Target, body: string, extra: Record<string, string> = {}): Promise<{ ids: string[]; aliases: string[] }> {
  const res = await request(app, 'POST', '/slack/events', body, signed(body, extra));
  expect(res.statusCode).toBe(200);
  return res.json() as { ids: string[]; aliases: string[] };
}

/** Everything the router decided and asked the sinks to do so far. */
async function outputs(): Promise<AnyEnvelope[]> {
  const records = await Promise.all([TOPICS.incidents, TOPICS.slackCommands, TOPICS.pagerCommands].map((t) => readTopic(rig.kafka, t)));
  return records.flat().flatMap((r) => (r.event ? [r.event] : []));
}

const until = <T>(what: string, pick: (all: AnyEnvelope[]) => T | undefined) =>
  waitFor(async () => pick(await outputs()) ?? null, { what, timeoutMs: 180_000 });

const inputIdOf = (e: AnyEnvelope) => (e.data as { inputId?: string }).inputId;

test('ack <alias> by mention: refused to a viewer, done for an operator (once, however often Slack delivers it), and an unknown alias answered privately', async () => {
  const app = await rig.app({ slack: { signingSecret: SECRET, identity: fixedIdentity({ userId: 'U074G5E1ANR', botId: 'B074K2M1NF4' }) } });
  const alert = await request(app, 'POST', '/webhooks/alertmanager', fixtureText('alertmanager/zulip_firing_two_alerts.json'), { 'content-type': 'application/json' });
  expect(alert.statusCode).toBe(202);
  const opened = await until('the incident opened', (all) => all.find((e) => e.type === 'IncidentOpened' && e.alias === A));
  const incidentId = (opened.data as { incidentId: string }).incidentId;

  // A viewer: keyed by the alias, refused by the rules' permissions, told alone, where they wrote.
  const byViewer = await postMention(app, mentionBody(`ack ${A}`, tsNow(1), VIEWER));
  expect(byViewer.aliases).toEqual([A]);
  const refusal = await until('the viewer refused', (all) => all.find((e) => e.type === 'PostSlackEphemeral' && e.causationId === byViewer.ids[0]));
  expect(refusal.data).toMatchObject({ channel: CHANNEL, user: VIEWER, incidentId, text: expect.stringContaining('acknowledge this incident') });
  expect((await outputs()).filter((e) => e.type === 'IncidentAcknowledged')).toEqual([]);

  // An operator: acknowledged as the slash command would, the pager too, and a reply to the mention.
  const written = tsNow(2);
  const body = mentionBody(`ack ${A}`, written);
  const byOperator = await postMention(app, body);
  expect(byOperator.aliases).toEqual([A]);
  const reply = await until('the mention answered', (all) => all.find((e) => e.type === 'PostSlackReply' && e.causationId === byOperator.ids[0]));
  expect(reply.data).toMatchObject({ channel: CHANNEL, threadTs: written, text: expect.stringMatching(/^Acknowledged: /) });
  const acked = (await outputs()).filter((e) => e.type === 'IncidentAcknowledged');
  expect(acked).toHaveLength(1);
  expect(acked[0]).toMatchObject({ alias: A, data: { incidentId, by: OPERATOR } });

  // Slack's redelivery: the same input, taken once.
  const again = await postMention(app, body, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
  expect(again.ids).toEqual(byOperator.ids);
  await until('the redelivery suppressed', (all) =>
    all.find((e) => e.type === 'EventSuppressed' && inputIdOf(e) === byOperator.ids[0] && (e.data as { reason: string }).reason === 'duplicate'),
  );
  const after = await outputs();
  expect(after.filter((e) => e.type === 'IncidentAcknowledged')).toHaveLength(1);
  expect(after.filter((e) => e.type === 'PostSlackReply' && e.causationId === byOperator.ids[0])).toHaveLength(1);

  // An alias nobody knows: nothing opens, the writer is told.
  const unknown = await postMention(app, mentionBody('resolve alertmanager:nobody-knows', tsNow(3)));
  expect(unknown.aliases).toEqual(['alertmanager:nobody-knows']);
  const told = await until('the unknown alias answered', (all) => all.find((e) => e.type === 'PostSlackEphemeral' && e.causationId === unknown.ids[0]));
  expect(told.data).toMatchObject({ channel: CHANNEL, user: OPERATOR, text: expect.stringContaining('I know of no incident with the alias `alertmanager:nobody-knows`') });
  // A quoted alias with spaces (Slack's smart quotes), as the slash command takes it: keyed by the alias, never a request.
  const quoted = await postMention(app, mentionBody('resolve “alertmanager:nobody knows”', tsNow(4)));
  expect(quoted.aliases).toEqual(['alertmanager:nobody knows']);
  await until('the quoted alias answered', (all) => all.find((e) => e.type === 'PostSlackEphemeral' && e.causationId === quoted.ids[0]));
  expect((await outputs()).filter((e) => e.type === 'IncidentOpened' && e.alias !== A && e.alias !== 'alertmanager:c2ea85182f28cbd9')).toEqual([]);
  // A bound on a stuck run, not on speed: the router is a process of its own on a shared 2-core machine.
}, 600_000);
