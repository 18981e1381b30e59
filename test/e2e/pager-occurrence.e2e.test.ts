/**
 * A pager action on the alert of an earlier occurrence must not end the open one, end to end over HTTP with every
 * service as its own process. The pager down for a while holds alertbus's close of the first occurrence back; the
 * alert fires again meanwhile, and when the pager is back the close goes out, then the new page. The pager's webhook
 * reports that close (made by alertbus, on the old alert): it changes nothing, and the new occurrence, still open,
 * is resolved and its page closed when its source resolves.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { dropTestDatabase } from '../support/db';
import { E2E_APP, type StandInMessage } from '../support/slack-requests';
import { startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const fixture = (p: string) => readFileSync(resolve(__dirname, '../../../shared/fixtures', p), 'utf8');

const SOURCE_TOKEN = 'alertmanager-token-0123456789';
const PAGER_TOKEN = 'opsgenie-token-0123456789';

let full: FullStack;

interface Incident {
  incident_id: string;
  alias: string;
  status: string;
  resolved_by: string | null;
}
interface TimelineEntry {
  type: string;
  reason: string | null;
}

const messages = () => full.slack.state.messages as StandInMessage[];
const replies = (root: StandInMessage) => messages().filter((m) => m.channel === root.channel && m.thread_ts === root.ts && m.user === E2E_APP.userId);
const roots = (alias: string) => messages().filter((m) => m.channel === 'C0ALERTS' && !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(alias));
const pagerAlerts = (alias: string) => full.opsgenie.state.alerts.filter((a) => a.alias === alias);

async function incidentsOf(alias: string): Promise<Incident[]> {
  return (await full.json<{ incidents: Incident[] }>('history', `/api/incidents?alias=${encodeURIComponent(alias)}`)).incidents;
}
async function timelineOf(incidentId: string): Promise<TimelineEntry[]> {
  return (await full.json<{ timeline: TimelineEntry[] }>('history', `/api/incidents/${incidentId}`)).timeline;
}

/** Alertmanager's webhook for one alert of `fingerprint`, firing since `startsAt` or resolved at `endsAt`. */
async function send(fingerprint: string, status: 'firing' | 'resolved', startsAt: string, endsAt?: string): Promise<void> {
  const body = JSON.parse(fixture('alertmanager/zulip_resolved_single.json'));
  body.status = status;
  Object.assign(body.alerts[0], { status, fingerprint, startsAt, endsAt: endsAt ?? '0001-01-01T00:00:00Z' });
  const res = await fetch(`${full.stack.url('ingest')}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SOURCE_TOKEN}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
}

beforeAll(async () => {
  full = await startFullStack({ INGEST_TOKENS: `alertmanager:${SOURCE_TOKEN},opsgenie:${PAGER_TOKEN}` });
  full.opsgenie.webhook.configure({ url: `${full.stack.url('ingest')}/webhooks/opsgenie`, authorization: `Bearer ${PAGER_TOKEN}` });
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('alertbus\'s own close of the previous occurrence, late after a pager outage, does not resolve the next occurrence', async () => {
  const fingerprint = 'e2e0pager0flap3';
  const alias = `alertmanager:${fingerprint}`;
  const firstStart = new Date(Date.now() - 60_000).toISOString();
  await send(fingerprint, 'firing', firstStart);
  await waitFor(() => pagerAlerts(alias).length === 1, { what: `the pager alert of ${alias}` });
  const [first] = await waitFor(async () => ((await incidentsOf(alias)).length === 1 ? incidentsOf(alias) : undefined), { what: 'the first incident' });
  const oldAlert = pagerAlerts(alias)[0]!;

  // The pager answers 503 for 15 s: the close of the first occurrence waits, and the next occurrence's page behind it.
  full.opsgenie.state.failFor('*', { status: 503 }, 15_000);
  await send(fingerprint, 'resolved', firstStart, new Date().toISOString());
  await waitFor(async () => (await incidentsOf(alias)).some((i) => i.incident_id === first!.incident_id && i.status === 'resolved'), { what: 'the first incident resolved' });
  await new Promise((r) => setTimeout(r, 3_000));
  await send(fingerprint, 'firing', new Date().toISOString());
  const second = await waitFor(async () => (await incidentsOf(alias)).find((i) => i.incident_id !== first!.incident_id), { what: 'the second incident' });

  // The pager back: the delayed close, then the new page; the pager reports alertbus's close by its webhook.
  await waitFor(() => oldAlert.status === 'closed' && pagerAlerts(alias).length === 2, { what: 'the old alert closed and the new one created', timeoutMs: 90_000 });
  await waitFor(() => full.opsgenie.webhook.deliveries.some((d) => d.alias === alias && d.action === 'Close' && d.status === 202), { what: 'the pager\'s Close webhook taken by ingest' });
  await waitFor(async () => (await timelineOf(second.incident_id)).some((e) => e.type === 'EventSuppressed' && (e.reason === 'own-action' || e.reason === 'other-occurrence')), {
    what: 'the close of the old alert recorded on the second incident as changing nothing',
  });
  expect((await incidentsOf(alias)).find((i) => i.incident_id === second.incident_id)).toMatchObject({ status: 'open', resolved_by: null });
  const newAlert = pagerAlerts(alias)[1]!;
  expect(newAlert.status).toBe('open');

  // The source resolves the second occurrence: resolved, and its page closed.
  await send(fingerprint, 'resolved', new Date(Date.now() - 1_000).toISOString(), new Date().toISOString());
  await waitFor(async () => (await incidentsOf(alias)).find((i) => i.incident_id === second.incident_id)?.status === 'resolved', { what: 'the second incident resolved' });
  await waitFor(() => newAlert.status === 'closed', { what: 'the new pager alert closed' });
  const timeline = await timelineOf(second.incident_id);
  expect(timeline.filter((e) => e.type === 'IncidentResolved').map((e) => e.reason)).toEqual(['resolved']);
  expect(roots(alias)).toHaveLength(2);
  expect(roots(alias).flatMap((root) => replies(root)).some((r) => /in Opsgenie by/.test(r.text))).toBe(false);
});
