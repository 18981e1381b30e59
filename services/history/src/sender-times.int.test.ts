/**
 * The history's times against real Kafka and Postgres: an Alertmanager alert that reached alertbus 20 minutes after it
 * started (an outage of alertbus) is measured from its startsAt and to its endsAt, not from when alertbus heard; a
 * generic alert, which says neither, from alertbus's own times. A rebuild from the log gives the same rows.
 */
import type { Kafka } from 'kafkajs';
import { ensureDatabase, loadMigrations } from '@alertbus/common';
import { MIGRATIONS_DIR, rebuildProjection } from '@alertbus/projection';
import { deriveId, makeEnvelope, type AnyEnvelope, type EventData, type EventType, type RuleRef } from '@alertbus/schemas';
import { dropTestDatabase } from '../../../test/support/db';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { runCli } from '../../../test/support/cli';
import { waitFor } from '../../../test/support/wait';
import { startHistory, type HistoryService } from './index';
import { produceStream } from './testdata/produce';

const RULE: RuleRef = { path: 'rules[0]', name: 'critical pages', rulesVersion: 'sha256:5e1f0c0ffee0' };
// Whole seconds, so the instants written below are the ones the API gives back.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const MIN = 60_000;

/** One alert's incident as the router writes it: received, opened, acknowledged by a person, resolved by its source. */
function incident(
  source: 'alertmanager' | 'generic',
  times: { opened: number; acked: number; resolved: number; startsAt?: string; endsAt?: string },
  name: string = source,
): { events: AnyEnvelope[]; incidentId: string } {
  const alias = `${source}:sender-times-${name}`;
  const incidentId = deriveId('incident', alias, 1);
  const base = { incidentId, occurrence: 1, title: `DiskFull ${source}`, severity: 'critical', source, rule: RULE, labels: { alertname: 'DiskFull' } };
  const events: AnyEnvelope[] = [];
  const event = <T extends EventType>(type: T, when: string, inputId: string, data: EventData<T>) =>
    events.push(makeEnvelope({ id: deriveId(inputId, type), type, alias, occurredAt: when, recordedAt: when, source: type === 'AlertReceived' ? `ingest/${source}` : 'router', data }) as AnyEnvelope);
  const input = (status: 'firing' | 'resolved', when: string, sender: { startsAt?: string; endsAt?: string }) => {
    const id = deriveId(alias, 'input', status);
    event('AlertReceived', when, id, { source, status, title: base.title, severity: 'critical', labels: base.labels, annotations: {}, links: [], ...sender, raw: { status, ...sender } });
    return id;
  };
  const fired = input('firing', at(times.opened), times.startsAt !== undefined ? { startsAt: times.startsAt } : {});
  event('IncidentOpened', at(times.opened), fired, {
    ...base,
    status: 'open',
    count: 1,
    reason: 'first-notification',
    inputId: fired,
    links: [],
    openedAt: at(times.opened),
    ...(times.startsAt !== undefined ? { startsAt: times.startsAt } : {}),
  });
  const click = deriveId(alias, 'click');
  event('IncidentAcknowledged', at(times.acked), click, { ...base, status: 'acknowledged', count: 1, reason: 'acknowledged', inputId: click, acknowledgedAt: at(times.acked), by: 'alice' });
  const done = input('resolved', at(times.resolved), times.endsAt !== undefined ? { startsAt: times.startsAt!, endsAt: times.endsAt } : {});
  event('IncidentResolved', at(times.resolved), done, {
    ...base,
    status: 'resolved',
    count: 1,
    reason: 'resolved',
    inputId: done,
    resolvedAt: at(times.resolved),
    ...(times.endsAt !== undefined ? { endsAt: times.endsAt } : {}),
  });
  return { events, incidentId };
}

// Started 20 minutes ago; alertbus was down and heard of it now, acknowledged 30 s later; it ended 5 minutes ago, and
// its resolve reached alertbus a minute from now. Alertmanager writes startsAt with nanoseconds.
const late = incident('alertmanager', {
  opened: 0,
  acked: 30_000,
  resolved: MIN,
  startsAt: at(-20 * MIN).replace('.000Z', '.000000001Z'),
  endsAt: at(-5 * MIN),
});
// A generic alert an hour earlier, which gives no startsAt or endsAt: opened, acknowledged 2 minutes later, resolved after 4.
const generic = incident('generic', { opened: -60 * MIN, acked: -58 * MIN, resolved: -56 * MIN });
// A payload sent again days later (the README's examples, a replay): it started 10 days ago and ended 9 days ago, and
// alertbus opened it 30 minutes ago and resolved it a minute after. Neither the start (further back than 7 days) nor the
// end (before the start alertbus has, opened_at) says anything about this incident.
const replayed = incident('alertmanager', { opened: -30 * MIN, acked: -29.5 * MIN, resolved: -29 * MIN, startsAt: at(-10 * 1440 * MIN), endsAt: at(-9 * 1440 * MIN) }, 'replayed');

/**
 * An alert still firing after a person resolved its incident: its next firing (the same startsAt, as Alertmanager
 * repeats it) opens the alias's second incident. Started 30 minutes before now-2h, opened by alertbus at -2h, resolved by
 * alice at -100 min, fired again at -90 min. The second incident started no earlier than the first one's resolve.
 */
function reopenedAfterPerson(): { events: AnyEnvelope[]; first: string; second: string } {
  const alias = 'alertmanager:sender-times-reopened';
  const startsAt = at(-150 * MIN);
  const first = deriveId('incident', alias, 1);
  const second = deriveId('incident', alias, 2);
  const base = { title: 'QueueStuck', severity: 'critical', source: 'alertmanager' as const, rule: RULE, labels: { alertname: 'QueueStuck' } };
  const events: AnyEnvelope[] = [];
  const event = <T extends EventType>(type: T, when: string, inputId: string, data: EventData<T>) =>
    events.push(makeEnvelope({ id: deriveId(inputId, type), type, alias, occurredAt: when, recordedAt: when, source: type === 'AlertReceived' ? 'ingest/alertmanager' : 'router', data }) as AnyEnvelope);
  const firing = (n: number, when: string) => {
    const id = deriveId(alias, 'firing', n);
    event('AlertReceived', when, id, { source: 'alertmanager', status: 'firing', title: base.title, severity: 'critical', labels: base.labels, annotations: {}, links: [], startsAt, raw: { status: 'firing', startsAt } });
    return id;
  };
  const f1 = firing(1, at(-120 * MIN));
  event('IncidentOpened', at(-120 * MIN), f1, { ...base, incidentId: first, occurrence: 1, status: 'open', count: 1, reason: 'first-notification', inputId: f1, links: [], openedAt: at(-120 * MIN), startsAt });
  const click = deriveId(alias, 'resolve-click');
  event('IncidentResolved', at(-100 * MIN), click, { ...base, incidentId: first, occurrence: 1, status: 'resolved', count: 1, reason: 'resolved', inputId: click, resolvedAt: at(-100 * MIN), by: 'alice' });
  const f2 = firing(2, at(-90 * MIN));
  event('IncidentReopened', at(-90 * MIN), f2, {
    ...base, incidentId: second, occurrence: 2, previousIncidentId: first, status: 'open', count: 1, reason: 'reopened', inputId: f2, links: [], openedAt: at(-90 * MIN), startsAt,
  });
  return { events, first, second };
}
const reopened = reopenedAfterPerson();

let kafka: Kafka;
let service: HistoryService;

async function get(path: string): Promise<any> {
  const res = await fetch(`${service.url}${path}`);
  expect(res.status).toBe(200);
  return res.json();
}

/** Stats over the incidents alertbus opened in [from, to). */
const statsAround = (openedMs: number) => get(`/api/stats?from=${encodeURIComponent(at(openedMs - 1000))}&to=${encodeURIComponent(at(openedMs + 1000))}`);

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-sender-times');
  await produceStream(kafka, [...generic.events, ...late.events, ...reopened.events, ...replayed.events]);
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });
  // The two incidents resolved, and the alias resolved by a person then opened again.
  const all = "SELECT count(*) FILTER (WHERE status = 'resolved')::int AS resolved, count(*)::int AS n FROM incidents";
  await waitFor(async () => JSON.stringify((await service.pool.query(all)).rows[0]) === JSON.stringify({ resolved: 4, n: 5 }), {
    what: 'every incident projected',
  });
});

afterAll(async () => {
  await service?.close();
  await dropTestDatabase();
});

describe("the history's times", () => {
  it('an Alertmanager incident shows when the sender says it started and ended, beside when alertbus heard', async () => {
    const body = await get(`/api/incidents/${late.incidentId}`);

    expect(body).toMatchObject({
      started_at: at(-20 * MIN),
      opened_at: at(0),
      acknowledged_at: at(30_000),
      ended_at: at(-5 * MIN),
      resolved_at: at(MIN),
    });
    const listed = (await get(`/api/incidents?alias=${encodeURIComponent('alertmanager:sender-times-alertmanager')}`)).incidents;
    expect(listed).toEqual([expect.objectContaining({ incident_id: late.incidentId, started_at: at(-20 * MIN), ended_at: at(-5 * MIN) })]);
  });

  it("its time to acknowledge and to resolve run from the sender's start to the acknowledgement and the sender's end", async () => {
    const stats = await statsAround(0);

    expect(stats.incidents.total).toBe(1);
    // Not 30 s and 60 s, alertbus's receive times: 20 min 30 s, and 15 min.
    expect(stats.time_to_acknowledge).toEqual({ count: 1, median_seconds: 20 * 60 + 30, p90_seconds: 20 * 60 + 30 });
    expect(stats.time_to_resolve).toEqual({ count: 1, median_seconds: 15 * 60, p90_seconds: 15 * 60 });
  });

  it('a generic incident, which says neither, keeps the figures of when alertbus opened and resolved it', async () => {
    expect(await get(`/api/incidents/${generic.incidentId}`)).toMatchObject({ started_at: null, ended_at: null, opened_at: at(-60 * MIN) });
    const stats = await statsAround(-60 * MIN);

    expect(stats.incidents.total).toBe(1);
    expect(stats.time_to_acknowledge).toEqual({ count: 1, median_seconds: 120, p90_seconds: 120 });
    expect(stats.time_to_resolve).toEqual({ count: 1, median_seconds: 240, p90_seconds: 240 });
  });

  it('the window is over when alertbus opened the incidents, not when they started', async () => {
    // The Alertmanager incident started 20 minutes ago but was opened now: a window around its start holds nothing.
    expect((await statsAround(-20 * MIN)).incidents.total).toBe(0);
  });

  it('alertbus incidents prints when it started, as the sender says', async () => {
    const show = await runCli('incidents', 'show', late.incidentId, '--url', service.url);
    expect(show).toMatchObject({ exitCode: 0, stderr: '' });
    expect(show.stdout).toContain(`  started ${at(-20 * MIN)} as the sender says (20m before alertbus opened it)`);
    expect(show.stdout).toContain(`  ended ${at(-5 * MIN)} as the sender says (6m before alertbus resolved it)`);

    const list = await runCli('incidents', '--url', service.url);
    const line = list.stdout.split('\n').find((l) => l.includes(late.incidentId))!;
    expect(line).toMatch(new RegExp(`^${at(0)}\\s+${at(-20 * MIN)}\\s+resolved`));
    expect(list.stdout.split('\n').find((l) => l.includes(generic.incidentId))).toMatch(new RegExp(`^${at(-60 * MIN)}\\s+resolved`));
  });

  it("an incident reopened after a person resolved the previous one starts no earlier than that resolve, not at the alert's first startsAt", async () => {
    expect(await get(`/api/incidents/${reopened.first}`)).toMatchObject({ started_at: at(-150 * MIN), opened_at: at(-120 * MIN), resolved_at: at(-100 * MIN), ended_at: null });
    expect(await get(`/api/incidents/${reopened.second}`)).toMatchObject({ started_at: at(-100 * MIN), opened_at: at(-90 * MIN) });
  });

  it("an end the sender gives from before the incident's start is not its end: ended_at stays null, and the time to resolve is alertbus's", async () => {
    expect(await get(`/api/incidents/${replayed.incidentId}`)).toMatchObject({ started_at: null, opened_at: at(-30 * MIN), ended_at: null, resolved_at: at(-29 * MIN) });
    const stats = await statsAround(-30 * MIN);
    expect(stats.time_to_resolve).toEqual({ count: 1, median_seconds: 60, p90_seconds: 60 });
    const show = await runCli('incidents', 'show', replayed.incidentId, '--url', service.url);
    expect(show.stdout).not.toContain('as the sender says');
  });

  it('migration 016 gives a row projected before it (its end raised to its start) the null a replay gives', async () => {
    const [sql] = loadMigrations(MIGRATIONS_DIR).filter((m) => m.version === 16).map((m) => m.sql);
    const rows = () => service.pool.query('SELECT incident_id, started_at, ended_at FROM incidents ORDER BY incident_id').then((r) => r.rows);
    const replayedRows = await rows();
    await service.pool.query('UPDATE incidents SET ended_at = opened_at WHERE incident_id = $1', [replayed.incidentId]);
    expect(await rows()).not.toEqual(replayedRows);
    await service.pool.query(sql!);
    expect(await rows()).toEqual(replayedRows);
  });

  it('a rebuild from the log gives the same rows, sender times included', async () => {
    const result = await rebuildProjection({ databaseUrl: process.env.DATABASE_URL!, kafka, migrationsDir: MIGRATIONS_DIR, swap: false });

    expect(result.matches).toBe(true);
    const { rows } = await service.pool.query('SELECT count(started_at)::int AS started, count(ended_at)::int AS ended FROM incidents');
    expect(rows[0]).toEqual({ started: 3, ended: 1 });
  });
});
