/**
 * One pager alert shared by several incidents through a rule's templated `pager.alias`, end to end over HTTP with every
 * service as its own process: the alert is closed when the last incident paged through it resolves at its source; an
 * earlier one's resolve leaves it open, with a note, for the incidents still firing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropTestDatabase } from '../support/db';
import { startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const SOURCE_TOKEN = 'generic-token-0123456789';
const PAGER_TOKEN = 'opsgenie-token-0123456789';
const RULES = 'defaults:\n  slack: { channel: "#alerts" }\n  pager: { priority: P2, alias: "host-{{ labels.host }}" }\n';

let full: FullStack;

interface Incident {
  incident_id: string;
  alias: string;
  status: string;
}

const pagerAlerts = (alias: string) => full.opsgenie.state.alerts.filter((a) => a.alias === alias);

async function incidentsOf(alias: string): Promise<Incident[]> {
  return (await full.json<{ incidents: Incident[] }>('history', `/api/incidents?alias=${encodeURIComponent(alias)}`)).incidents;
}

/** A generic alert of `host` (its own alias `generic:{name}`), firing or resolved. */
async function send(name: string, host: string, status: 'firing' | 'resolved'): Promise<void> {
  const res = await fetch(`${full.stack.url('ingest')}/webhooks/generic`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SOURCE_TOKEN}` },
    body: JSON.stringify({ title: `${name} on ${host}`, alias: name, status, severity: 'critical', labels: { host } }),
  });
  expect(res.status).toBe(202);
}

/** Waits for the alias's one incident to have `status` in history. */
async function untilStatus(alias: string, status: string): Promise<void> {
  await waitFor(async () => (await incidentsOf(alias))[0]?.status === status, { what: `${alias} ${status} in history` });
}

beforeAll(async () => {
  const rulesPath = join(mkdtempSync(join(tmpdir(), 'alertbus-pager-shared-e2e-')), 'rules.yaml');
  writeFileSync(rulesPath, RULES);
  full = await startFullStack({ ROUTING_RULES: rulesPath, INGEST_TOKENS: `generic:${SOURCE_TOKEN},opsgenie:${PAGER_TOKEN}` });
  full.opsgenie.webhook.configure({ url: `${full.stack.url('ingest')}/webhooks/opsgenie`, authorization: `Bearer ${PAGER_TOKEN}` });
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('two incidents of one host page through one alert: the first resolve leaves it open with a note, the last one closes it', async () => {
  await send('cpu-db9', 'db9', 'firing');
  await send('disk-db9', 'db9', 'firing');
  await waitFor(() => pagerAlerts('pager:host-db9')[0]?.count === 2, { what: 'both incidents paged through host-db9' });
  expect(pagerAlerts('pager:host-db9')).toHaveLength(1);

  await send('cpu-db9', 'db9', 'resolved');
  await untilStatus('generic:cpu-db9', 'resolved');
  await waitFor(() => pagerAlerts('pager:host-db9')[0]!.notes.some((n) => n.note.startsWith('Resolved at the source: cpu-db9 on db9 (generic:cpu-db9).')), {
    what: "the note of cpu-db9's resolve on the shared pager alert",
  });
  expect(pagerAlerts('pager:host-db9')[0]).toMatchObject({ status: 'open', count: 2 });
  expect((await incidentsOf('generic:disk-db9'))[0]!.status).toBe('open');

  await send('disk-db9', 'db9', 'resolved');
  await untilStatus('generic:disk-db9', 'resolved');
  await waitFor(() => pagerAlerts('pager:host-db9')[0]!.status === 'closed', { what: 'the shared pager alert closed by the last resolve' });
  expect(pagerAlerts('pager:host-db9')).toHaveLength(1);
  expect(full.opsgenie.state.calls.filter((c) => c.route === 'close' && c.identifier === 'pager:host-db9' && c.status < 300)).toHaveLength(1);
});

test('an incident firing again after the shared alert closed pages a new alert under the alias, and its resolve closes that one', async () => {
  await send('cpu-db7', 'db7', 'firing');
  await send('disk-db7', 'db7', 'firing');
  await waitFor(() => pagerAlerts('pager:host-db7')[0]?.count === 2, { what: 'both incidents paged through host-db7' });
  await send('cpu-db7', 'db7', 'resolved');
  await send('disk-db7', 'db7', 'resolved');
  await waitFor(() => pagerAlerts('pager:host-db7')[0]?.status === 'closed', { what: 'the shared pager alert closed' });

  await send('cpu-db7', 'db7', 'firing');
  await waitFor(() => pagerAlerts('pager:host-db7').length === 2, { what: 'a new pager alert under host-db7' });
  expect(pagerAlerts('pager:host-db7')[1]).toMatchObject({ status: 'open', count: 1 });
  await send('cpu-db7', 'db7', 'resolved');
  await waitFor(() => pagerAlerts('pager:host-db7')[1]!.status === 'closed', { what: 'the new pager alert closed by its only incident' });
  await untilStatus('generic:cpu-db7', 'resolved');
});
