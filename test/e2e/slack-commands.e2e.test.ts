/**
 * Slash commands end to end, every service as its own process: `/alertbus …` is POSTed to ingest signed as Slack
 * signs it, answered 200 within Slack's 3 s, and answered for real at its response_url (the Slack stand-in's
 * `/_stand-in/response/:id`, which records what it is sent) once the router decided and the slack-sink looked up
 * what the answer needs. A forged command is refused; `ack` acts on a real incident; `silence` creates a silence.
 */
import { responseUrl } from '@alertbus/stand-ins';
import { dropTestDatabase } from '../support/db';
import { slackHeaders } from '../support/slack-requests';
import { freePort, startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const SECRET = 'e2e-slack-commands-signing-secret';
const TEAM = 'T0ALERTBUS';
const USERS = [
  { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' },
  { id: 'U0BOB', name: 'bob', email: 'bob@example.com' },
];
/** `ops` is ONCALL_SCHEDULE; `db` is asked for by name. */
const ON_CALL = { ops: ['alice@example.com', 'bob@example.com'], db: ['bob@example.com'] };

let full: FullStack;
let unique = 0;

interface Answer {
  response_type: string;
  text: string;
}
interface Incident {
  incident_id: string;
  alias: string;
  status: string;
  title: string;
  acknowledged_by: string | null;
}

/**
 * `/alertbus <text>` as Slack posts it, with a response_url of its own on the stand-in. Unless `once`, a 503 (Kafka
 * not reached within INGEST_SLACK_TIMEOUT_MS, nothing written: the machine is busy) is sent again, as the person
 * would: the same request, so the same trigger_id and the same event.
 */
async function slash(text: string, opts: { secret?: string; user?: string; once?: boolean } = {}): Promise<{ status: number; body: string; ms: number; answerId: string }> {
  const answerId = `${TEAM}/${++unique}/${Date.now()}`;
  const body = new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: TEAM,
    team_domain: 'alertbus-stand-in',
    channel_id: 'C0ALERTS',
    channel_name: 'alerts',
    user_id: opts.user ?? 'U0ALICE',
    user_name: 'alice',
    command: '/alertbus',
    text,
    api_app_id: 'A0ALERTBUS',
    response_url: responseUrl(full.slack.url, answerId),
    trigger_id: `${Date.now()}.${unique}.e2e`,
  }).toString();
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const res = await fetch(`${full.stack.url('ingest')}/slack/commands`, { method: 'POST', headers: slackHeaders(body, opts.secret ?? SECRET, { contentType: 'application/x-www-form-urlencoded' }), body });
    const ms = Date.now() - started;
    if (res.status !== 503 || opts.once || attempt === 5) return { status: res.status, body: await res.text(), ms, answerId };
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** The answers posted to one response_url. */
const answersAt = (id: string) => full.slack.state.responses.filter((r) => r.id === id).map((r) => r.body as unknown as Answer);
const answerAt = (id: string) => waitFor(() => answersAt(id)[0], { what: `the answer at response_url ${id}` });

async function incidentsOf(alias: string): Promise<Incident[]> {
  return (await full.json<{ incidents: Incident[] }>('history', `/api/incidents?alias=${encodeURIComponent(alias)}`)).incidents;
}

/** Slack markup in an alert's title: every answer quoting it must show it, never ping or link. */
const HOSTILE = '<!channel> disk full & <https://evil.example|ok>';
const escaped = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Fires one generic alert (alias `generic:<name>`) and waits until history shows its incident. */
async function openIncident(name: string): Promise<Incident> {
  const body = JSON.stringify({ alias: name, title: `${HOSTILE} on ${name}`, severity: 'critical', labels: { team: 'storage' } });
  const res = await fetch(`${full.stack.url('ingest')}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(res.status).toBe(202);
  return waitFor(async () => (await incidentsOf(`generic:${name}`))[0], { what: `the incident of generic:${name} in history` });
}

beforeAll(async () => {
  const historyPort = await freePort();
  full = await startFullStack(
    {
      SLACK_SIGNING_SECRET: SECRET,
      ONCALL_SCHEDULE: 'ops',
      HISTORY_PORT: String(historyPort),
      HISTORY_URL: `http://127.0.0.1:${historyPort}`,
    },
    { slackUsers: USERS, onCall: ON_CALL },
  );
  // The stack has written to Kafka once before the 3 s are measured (the first write also fetches metadata).
  await openIncident('warm-up');
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('`/alertbus help` and `/alertbus oncall` get 200 within 3 s; the answers arrive at the response_url, the on-call as mentions', async () => {
  const help = await slash('help', { once: true });
  expect([help.status, help.body]).toEqual([200, '']);
  expect(help.ms).toBeLessThan(3_000);
  const oncall = await slash('oncall', { once: true });
  expect([oncall.status, oncall.body]).toEqual([200, '']);
  expect(oncall.ms).toBeLessThan(3_000);

  const helpAnswer = await answerAt(help.answerId);
  expect(helpAnswer.response_type).toBe('ephemeral');
  expect(helpAnswer.text).toContain('`/alertbus oncall [schedule]`');
  expect(helpAnswer.text).toContain('`/alertbus silence &lt;matchers&gt; for &lt;duration&gt; [-- comment]`');

  const oncallAnswer = await answerAt(oncall.answerId);
  expect(oncallAnswer).toEqual({ response_type: 'ephemeral', text: 'On call for *ops*: <@U0ALICE> <@U0BOB>' });

  // Asked by name, shown in the channel.
  const db = await slash('oncall db --public');
  expect(await answerAt(db.answerId)).toEqual({ response_type: 'in_channel', text: 'On call for *db*: <@U0BOB>' });
  // Each answered once.
  await new Promise((r) => setTimeout(r, 2_000));
  expect([help, oncall, db].map((c) => answersAt(c.answerId).length)).toEqual([1, 1, 1]);
});

test('a forged or unsigned command gets 401, and nothing is answered', async () => {
  const forged = await slash('resolve generic:warm-up', { secret: 'not-the-signing-secret' });
  expect(forged.status).toBe(401);
  const unsigned = await fetch(`${full.stack.url('ingest')}/slack/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'command=%2Falertbus&text=help',
  });
  expect(unsigned.status).toBe(401);
  await new Promise((r) => setTimeout(r, 2_000));
  expect(answersAt(forged.answerId)).toEqual([]);
  expect((await incidentsOf('generic:warm-up'))[0]!.status).toBe('open');
});

test('`/alertbus incidents` lists it; `/alertbus ack <alias>` acknowledges the real incident (thread, history, pager), and is in its history', async () => {
  const incident = await openIncident('slash-ack');
  // Listed with the alias to act on it by.
  const list = await slash('incidents');
  expect((await answerAt(list.answerId)).text).toContain(`• ${escaped(incident.title)} — \`${incident.alias}\` · `);
  const ack = await slash(`ack ${incident.alias}`);
  expect(ack.status).toBe(200);
  expect(await answerAt(ack.answerId)).toEqual({ response_type: 'ephemeral', text: `Acknowledged: ${escaped(incident.title)} (\`${incident.alias}\`)` });
  const acked = await waitFor(async () => (await incidentsOf(incident.alias)).find((i) => i.status === 'acknowledged'), { what: 'the incident acknowledged in history' });
  expect(acked).toMatchObject({ incident_id: incident.incident_id, acknowledged_by: 'U0ALICE' });
  await waitFor(() => full.opsgenie.state.alerts.find((a) => a.alias === incident.alias)?.acknowledged, { what: 'the pager alert acknowledged' });
  // Audited: the command itself is in the alias's history, and the decision names it as its cause.
  const timeline = await waitFor(async () => {
    const t = (await full.json<{ events: Array<{ type: string; event_id: string; causation_id?: string | null }> }>('history', `/api/timeline?alias=${encodeURIComponent(incident.alias)}`)).events;
    return t.some((e) => e.type === 'SlackSlashCommandReceived') && t.some((e) => e.type === 'IncidentAcknowledged') ? t : undefined;
  }, { what: 'the slash command in the timeline' });
  const commands = timeline.filter((e) => e.type === 'SlackSlashCommandReceived');
  expect(commands).toHaveLength(1);
  expect(timeline.find((e) => e.type === 'IncidentAcknowledged')!.causation_id).toBe(commands[0]!.event_id);

  // Again: already acknowledged, said so; resolve then resolves it.
  const again = await slash(`ack ${incident.alias}`);
  expect((await answerAt(again.answerId)).text).toBe(`${escaped(incident.title)} (\`${incident.alias}\`) is already acknowledged.`);
  const resolve = await slash(`resolve ${incident.alias} --public`);
  expect(await answerAt(resolve.answerId)).toEqual({ response_type: 'in_channel', text: `Resolved: ${escaped(incident.title)} (\`${incident.alias}\`)` });
  await waitFor(async () => (await incidentsOf(incident.alias)).find((i) => i.status === 'resolved'), { what: 'the incident resolved in history' });
  // The alert's markup never became a ping or a link in any answer.
  expect(JSON.stringify(full.slack.state.responses)).not.toMatch(/<!channel>|<https:\/\/evil/);
});

test('`/alertbus resolve <incident id>` finds the incident (its alias from the history API) and resolves it; an unknown id is answered', async () => {
  const incident = await openIncident('slash-by-id');
  const resolve = await slash(`resolve ${incident.incident_id}`);
  expect(resolve.status).toBe(200);
  expect(await answerAt(resolve.answerId)).toEqual({ response_type: 'ephemeral', text: `Resolved: ${escaped(incident.title)} (\`${incident.incident_id}\`)` });
  await waitFor(async () => (await incidentsOf(incident.alias)).find((i) => i.status === 'resolved'), { what: 'the incident resolved in history' });
  const unknown = await slash('ack 00000000-0000-8000-8000-000000000000');
  expect((await answerAt(unknown.answerId)).text).toBe('I could not find incident `00000000-0000-8000-8000-000000000000`: no incident has that id.');
});

test('`/alertbus silence … for 1h` creates a silence that `/alertbus silences` lists and `unsilence` ends', async () => {
  const cmd = await slash('silence alertname="DiskFullSlash" env="prod" for 1h -- disk swap');
  expect(cmd.status).toBe(200);
  const created = await answerAt(cmd.answerId);
  expect(created.text).toMatch(/^Silenced `alertname="DiskFullSlash"` `env="prod"` for 1h, until .*\. Silence id: `(slack-[0-9a-f-]+)`/);
  const silenceId = /Silence id: `([^`]+)`/.exec(created.text)![1]!;

  type Silence = { silence_id: string; matchers: string[]; created_by: string; comment: string; starts_at: string; ends_at: string; state: string };
  const silence = await waitFor(
    async () => (await full.json<{ silences: Silence[] }>('history', '/api/silences?state=active')).silences.find((s) => s.silence_id === silenceId),
    { what: 'the silence in history' },
  );
  expect(silence).toMatchObject({ matchers: ['alertname="DiskFullSlash"', 'env="prod"'], created_by: 'slack:U0ALICE', comment: 'disk swap', state: 'active' });
  expect(Date.parse(silence.ends_at) - Date.parse(silence.starts_at)).toBe(3_600_000);

  const list = await slash('silences');
  expect((await answerAt(list.answerId)).text).toContain(`• \`${silenceId}\` \`alertname="DiskFullSlash"\` \`env="prod"\` now until`);

  const end = await slash(`unsilence ${silenceId}`);
  expect((await answerAt(end.answerId)).text).toContain(silenceId);
  await waitFor(
    async () => !(await full.json<{ silences: Silence[] }>('history', '/api/silences?state=active')).silences.some((s) => s.silence_id === silenceId),
    { what: 'the silence ended' },
  );
});
