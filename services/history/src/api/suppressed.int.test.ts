/**
 * GET /api/suppressed and `alertbus suppressed` against real Postgres: what alertbus kept quiet over a window (silenced,
 * inhibited, dropped by a rule, joined into a storm, a late copy), filtered, paged, counted by reason and redacted.
 */
import { inTransaction, type Pool } from '@alertbus/common';
import { deriveId, makeEnvelope, topicOf, type AnyEnvelope, type DecisionReason, type Envelope, type EventData, type RuleRef } from '@alertbus/schemas';
import { applyProjection, project } from '@alertbus/projection';
import { runCli } from '../../../../test/support/cli';
import { buildApp } from '../app';
import { createHistoryMetrics } from '../metrics';
import { startTestHistoryApp, stopTestHistoryApp, type TestHistoryApp } from '../test-support/history-app';

const NOW = new Date('2025-03-03T00:00:00.000Z');
const hoursBefore = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
const TEAM_CHANNELS: RuleRef = { path: 'rules[1]', name: 'team channels', rulesVersion: 'sha256:5e1f0c0ffee0' };
const DROP_NOISY: RuleRef = { path: 'rules[0]', name: 'drop noisy', rulesVersion: 'sha256:5e1f0c0ffee0' };

const events: AnyEnvelope[] = [];

function received(key: string, alias: string, h: number, title: string, severity: string, labels: Record<string, string>): Envelope<'AlertReceived'> {
  const when = hoursBefore(h);
  const e = makeEnvelope({
    id: deriveId('suppressed-test', key),
    type: 'AlertReceived',
    alias,
    occurredAt: when,
    recordedAt: when,
    source: 'ingest/alertmanager',
    data: { source: 'alertmanager', status: 'firing', title, severity, labels, annotations: {}, links: [], raw: {} },
  });
  events.push(e);
  return e;
}

function suppressed(input: Envelope<'AlertReceived'>, reason: DecisionReason, extra: Partial<EventData<'EventSuppressed'>> = {}): string {
  const e = makeEnvelope({
    id: deriveId(input.id, 'EventSuppressed', 0),
    type: 'EventSuppressed',
    alias: input.alias,
    occurredAt: input.occurredAt,
    recordedAt: input.recordedAt,
    source: 'router',
    causationId: input.id,
    correlationId: input.correlationId,
    data: { inputId: input.id, inputType: 'AlertReceived', reason, rule: TEAM_CHANNELS, title: input.data.title, ...extra },
  });
  events.push(e);
  return e.id;
}

const SILENCE = { kind: 'silence' as const, silenceId: 'sil-db-migration', createdBy: 'alice', comment: 'db migration' };
const DISK = { alertname: 'DiskFull', team: 'db' };

// In the last 24 hours, newest first: S7 1h, S1 2h, S4 3h, S5 4h, S2 and S3 5h (a tie), S6 6h; O1 30h ago is outside.
const S1 = suppressed(received('s1', 'am:disk', 2, 'DiskFull db', 'warning', DISK), 'silenced', { suppressedBy: SILENCE });
const S2 = suppressed(received('s2', 'am:disk', 5, 'DiskFull db', 'warning', DISK), 'silenced', { suppressedBy: SILENCE });
const S3 = suppressed(received('s3', 'am:backup', 5, 'BackupLate db', 'info', { alertname: 'BackupLate', team: 'db' }), 'silenced', { suppressedBy: SILENCE });
const S4 = suppressed(
  received('s4', 'am:api', 3, 'ApiDown: curl -H "Authorization: Bearer abcd1234secret" https://api', 'critical', {
    alertname: 'ApiDown',
    api_token: 'tok-SECRET-123',
    runbook: 'https://wiki:LABELPW@wiki.example/api',
  }),
  'inhibited',
  { suppressedBy: { kind: 'inhibition', incidentId: 'inc-upstream', alias: 'am:upstream', inhibitRule: 'upstream down' } },
);
const S5 = suppressed(received('s5', 'generic:noise', 4, 'Noisy cron', 'info', { job: 'cron' }), 'dropped-by-rule', { rule: DROP_NOISY });
/** A storm in #storm since 6.1 hours ago: its summary message and its one page, as the sinks report them. */
const STORM_SINCE = hoursBefore(6.1);
const STORM_ALIAS = `storm:#storm:${STORM_SINCE}`;
const STORM_ID = deriveId('storm', '#storm', STORM_SINCE);
const STORM_TS = '1740934000.000100';
const STORM_PAGE = 'storm-page-1';
function stormMember(input: Envelope<'AlertReceived'>, incidentId: string): void {
  events.push(
    makeEnvelope({
      id: deriveId(input.id, 'IncidentOpened', 0),
      type: 'IncidentOpened',
      alias: input.alias,
      occurredAt: input.occurredAt,
      recordedAt: input.recordedAt,
      source: 'router',
      causationId: input.id,
      correlationId: input.correlationId,
      data: {
        incidentId, occurrence: 1, title: input.data.title, severity: 'warning', source: 'grafana', status: 'open', count: 1,
        reason: 'first-notification', rule: TEAM_CHANNELS, inputId: input.id, labels: input.data.labels, links: [], openedAt: input.occurredAt,
      },
    }),
  );
}
function stormDeliveries(): void {
  const at = hoursBefore(5.9);
  const base = { alias: STORM_ALIAS, occurredAt: at, recordedAt: at, source: 'sink' };
  events.push(
    makeEnvelope({
      ...base,
      id: deriveId('storm-summary', 'posted'),
      type: 'SlackMessagePosted',
      data: { commandId: deriveId('storm-summary'), commandType: 'PostSlackMessage', incidentId: STORM_ID, dryRun: false, attempts: 1, channel: 'C0STORM', ts: STORM_TS, purpose: 'root' },
    }),
    makeEnvelope({
      ...base,
      id: deriveId('storm-page', 'created'),
      type: 'PagerAlertCreated',
      data: { commandId: deriveId('storm-page'), commandType: 'CreatePagerAlert', incidentId: STORM_ID, dryRun: false, attempts: 1, provider: 'opsgenie', requestId: 'r-storm', alertId: STORM_PAGE },
    }),
  );
}
const S6_INPUT = received('s6', 'grafana:cpu', 6, 'CPU high web', 'warning', { alertname: 'CPUHigh' });
stormMember(S6_INPUT, 'inc-cpu');
const S6 = suppressed(S6_INPUT, 'storm-control', {
  incidentId: 'inc-cpu',
  suppressedBy: { kind: 'storm', channel: '#storm', summaryIncidentId: STORM_ID, since: STORM_SINCE, threshold: 5, window: '10m', pageGrouped: true, pagePriority: 'P3' },
});
stormDeliveries();
const S7 = suppressed(received('s7', 'am:disk', 1, 'DiskFull db', 'warning', DISK), 'occurrence-already-resolved', { incidentId: 'inc-disk-1' });
const O1 = suppressed(received('o1', 'am:old', 30, 'Old one', 'info', { alertname: 'Old' }), 'silenced', { suppressedBy: SILENCE });

const [S2_OR_S3, S3_OR_S2] = [S2, S3].sort();
const IN_WINDOW = [S7, S1, S4, S5, S2_OR_S3!, S3_OR_S2!, S6];

let pool: Pool;
let app: TestHistoryApp['app'];
let url: string;

async function load(p: Pool): Promise<void> {
  const offsets = new Map<string, number>();
  const ordered = [...events].sort((a, b) => Date.parse(a.recordedAt) - Date.parse(b.recordedAt));
  await inTransaction(p, async (client) => {
    for (const e of ordered) {
      const topic = topicOf(e.type);
      const offset = offsets.get(topic) ?? 0;
      offsets.set(topic, offset + 1);
      await applyProjection(client, project(e, { topic, partition: 0, offset: String(offset) }));
    }
  });
}

beforeAll(async () => {
  ({ pool, app, url } = await startTestHistoryApp(NOW, load));
});

afterAll(() => stopTestHistoryApp({ app, pool }));

const get = async (path: string) => {
  const res = await app.inject({ method: 'GET', url: path });
  return { status: res.statusCode, body: res.json() };
};
const idsOf = (body: { suppressed: Array<{ event_id: string }> }) => body.suppressed.map((s) => s.event_id);

describe('GET /api/suppressed', () => {
  it('lists what was kept quiet in the last 24 hours, newest first, with why and by what, and counts by reason', async () => {
    const { status, body } = await get('/api/suppressed');

    expect(status).toBe(200);
    expect(body.from).toBe(hoursBefore(24));
    expect(body.to).toBe(NOW.toISOString());
    expect(idsOf(body)).toEqual(IN_WINDOW);
    expect(body.suppressed.find((s: { event_id: string }) => s.event_id === S1)).toEqual({
      event_id: S1,
      recorded_at: hoursBefore(2),
      alias: 'am:disk',
      reason: 'silenced',
      input_type: 'AlertReceived',
      input_id: deriveId('suppressed-test', 's1'),
      incident_id: null,
      rule: TEAM_CHANNELS,
      suppressed_by: SILENCE,
      storm_summary: null,
      title: 'DiskFull db',
      severity: 'warning',
      labels: DISK,
    });
    expect(body.suppressed.find((s: { event_id: string }) => s.event_id === S6)).toMatchObject({
      reason: 'storm-control',
      incident_id: 'inc-cpu',
      suppressed_by: { kind: 'storm', summaryIncidentId: STORM_ID, channel: '#storm' },
    });
    expect(body.suppressed.find((s: { event_id: string }) => s.event_id === S5)).toMatchObject({ reason: 'dropped-by-rule', rule: { name: 'drop noisy' } });
    expect(body.counts).toEqual([
      { reason: 'silenced', count: 3 },
      { reason: 'dropped-by-rule', count: 1 },
      { reason: 'inhibited', count: 1 },
      { reason: 'occurrence-already-resolved', count: 1 },
      { reason: 'storm-control', count: 1 },
    ]);
    expect(body.total).toBe(7);
    expect(body.next_cursor).toBeNull();
  });

  it('leads from a storm suppression to what the history holds of the storm: its timeline, its summary message, its page', async () => {
    const { body } = await get('/api/suppressed?reason=storm-control');
    const [s] = body.suppressed;
    expect(s.storm_summary).toEqual({ alias: STORM_ALIAS, slack_channel: 'C0STORM', slack_ts: STORM_TS, pager_alert_id: STORM_PAGE });
    // The summary is no incident of its own: its story is its alias's timeline, and the member's incident names the same places.
    expect((await get(`/api/incidents/${encodeURIComponent(s.suppressed_by.summaryIncidentId)}`)).status).toBe(404);
    const timeline = await get(`/api/timeline?alias=${encodeURIComponent(s.storm_summary.alias)}`);
    expect(timeline.body.events.map((e: { type: string; incident_id: string }) => [e.type, e.incident_id])).toEqual([
      ['SlackMessagePosted', s.suppressed_by.summaryIncidentId],
      ['PagerAlertCreated', s.suppressed_by.summaryIncidentId],
    ]);
    expect((await get(`/api/incidents/${s.incident_id}`)).body).toMatchObject({
      storm_incident_id: s.suppressed_by.summaryIncidentId,
      slack_channel: 'C0STORM',
      storm_slack_ts: STORM_TS,
      storm_pager_alert_id: STORM_PAGE,
    });
    for (const other of (await get('/api/suppressed')).body.suppressed.filter((x: { reason: string }) => x.reason !== 'storm-control')) {
      expect(other.storm_summary).toBeNull();
    }
  });

  it('filters by reason and by alias; the counts cover the window and alias whatever the reason filter', async () => {
    expect(idsOf((await get('/api/suppressed?reason=silenced')).body)).toEqual([S1, S2_OR_S3, S3_OR_S2]);
    expect(idsOf((await get('/api/suppressed?reason=inhibited')).body)).toEqual([S4]);
    expect(idsOf((await get('/api/suppressed?alias=am:disk')).body)).toEqual([S7, S1, S2]);
    const both = await get('/api/suppressed?alias=am%3Adisk&reason=silenced');
    expect(idsOf(both.body)).toEqual([S1, S2]);
    expect(both.body.counts).toEqual([
      { reason: 'silenced', count: 2 },
      { reason: 'occurrence-already-resolved', count: 1 },
    ]);
    expect((await get('/api/suppressed?alias=nobody')).body).toMatchObject({ suppressed: [], counts: [], total: 0 });
  });

  it('takes another window by from/to or by since', async () => {
    expect(idsOf((await get('/api/suppressed?from=2025-03-01T00:00:00Z')).body)).toEqual([...IN_WINDOW, O1]);
    expect(idsOf((await get('/api/suppressed?since=48h')).body)).toEqual([...IN_WINDOW, O1]);
    expect(idsOf((await get(`/api/suppressed?from=${hoursBefore(31)}&to=${hoursBefore(29)}`)).body)).toEqual([O1]);
    // `to` alone: the 24 hours before it.
    const before = await get(`/api/suppressed?to=${encodeURIComponent(hoursBefore(4))}`);
    expect(before.body.from).toBe(hoursBefore(28));
    expect(idsOf(before.body)).toEqual([S2_OR_S3, S3_OR_S2, S6]);
  });

  it('pages newest first through ties, counts on the first page only, and refuses a cursor of other filters', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body }: { status: number; body: any } = await get(`/api/suppressed?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      expect(body.suppressed.length).toBeLessThanOrEqual(2);
      if (pages === 0) expect(body.total).toBe(7);
      else expect(body).toMatchObject({ counts: null, total: null });
      seen.push(...idsOf(body));
      cursor = body.next_cursor;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual(IN_WINDOW);
    expect(pages).toBe(4);

    const first = await get('/api/suppressed?limit=2');
    const other = await get(`/api/suppressed?limit=2&reason=silenced&cursor=${first.body.next_cursor}`);
    expect(other.status).toBe(400);
    expect(other.body.message).toMatch(/cursor was made for other filters/);
    expect((await get('/api/suppressed?cursor=not-a-cursor')).body).toEqual({ error: 'bad_request', message: expect.stringMatching(/invalid cursor/) });
  });

  it('keeps the first page\'s default window on the next pages while the clock moves on', async () => {
    let clock = NOW.getTime();
    const moving = buildApp({ pool, registry: createHistoryMetrics().registry, ready: async () => null, now: () => new Date(clock), auth: { tokens: [], readsOpen: true } });
    try {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await moving.inject({ method: 'GET', url: `/api/suppressed?limit=3${cursor ? `&cursor=${cursor}` : ''}` });
        const body: { from: string; to: string; suppressed: Array<{ event_id: string }>; next_cursor: string | null } = res.json();
        expect(body).toMatchObject({ from: hoursBefore(24), to: NOW.toISOString() });
        seen.push(...idsOf(body));
        cursor = body.next_cursor;
        clock += 20 * 3_600_000; // by the next page, "the last 24 hours" no longer holds the older ones
      } while (cursor);
      expect(seen).toEqual(IN_WINDOW);
    } finally {
      await moving.close();
    }
  });

  it.each([
    ['from after to', `from=${hoursBefore(1)}&to=${hoursBefore(2)}`, /"from" must be before "to"/],
    ['from after now (the default to)', 'from=2025-03-04T00:00:00Z', /"from" must be before "to"/],
    ['a date-time without its zone', 'from=2025-03-02T10:00:00', /query parameter "from"/],
    ['not a date at all', 'to=yesterday', /query parameter "to"/],
    ['a bad duration', 'since=a%20while', /query parameter "since"/],
    ['since with from', 'since=2h&from=2025-03-02T10:00:00Z', /"since" or "from", not both/],
    ['an unknown reason', 'reason=bored', /query parameter "reason".*silenced/],
    ['an unknown parameter', 'channel=%23alerts', /unknown query parameter "channel"/],
  ])('%s is a 400 naming the parameter', async (_what, query, message) => {
    const { status, body } = await get(`/api/suppressed?${query}`);
    expect(status).toBe(400);
    expect(body).toEqual({ error: 'bad_request', message: expect.stringMatching(message) });
  });

  it('hides credentials in the title and labels, as /api/timeline does, and takes severity and labels from the alert', async () => {
    const { body } = await get('/api/suppressed?reason=inhibited');
    const [s] = body.suppressed;
    expect(s).toMatchObject({
      title: 'ApiDown: curl -H "Authorization: Bearer [redacted]" https://api',
      severity: 'critical',
      labels: { alertname: 'ApiDown', api_token: '[redacted]', runbook: 'https://[redacted]@wiki.example/api' },
      suppressed_by: { kind: 'inhibition', incidentId: 'inc-upstream', inhibitRule: 'upstream down' },
    });
    const timeline = await get('/api/timeline?alias=am:api');
    const input = timeline.body.events.find((e: { type: string }) => e.type === 'AlertReceived');
    expect(s.labels).toEqual(input.data.labels);
    expect(JSON.stringify((await get('/api/suppressed')).body)).not.toMatch(/abcd1234secret|tok-SECRET-123|LABELPW/);
  });

  it('needs a token where reads are not open, as /api/timeline does', async () => {
    const guarded = buildApp({
      pool,
      registry: createHistoryMetrics().registry,
      ready: async () => null,
      now: () => NOW,
      auth: { tokens: [{ name: 'sre', role: 'viewer', token: 'viewer-token-0123456789' }], readsOpen: false },
    });
    try {
      expect((await guarded.inject({ method: 'GET', url: '/api/suppressed' })).statusCode).toBe(401);
      const ok = await guarded.inject({ method: 'GET', url: '/api/suppressed', headers: { authorization: 'Bearer viewer-token-0123456789' } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().total).toBe(7);
    } finally {
      await guarded.close();
    }
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await get('/docs/json')).body;
    expect(doc.paths['/api/suppressed'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['from', 'to', 'since', 'reason', 'alias', 'cursor', 'limit']),
    );
  });
});

describe('alertbus suppressed', () => {
  it('prints one line per suppression, newest first, with what suppressed it, then the counts by reason', async () => {
    const run = await runCli('suppressed', '--url', url);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const rows = lines.filter((l) => l.startsWith('2025-'));
    expect(rows).toHaveLength(7);
    expect(rows[0]).toMatch(/^2025-03-02T23:00:00\.000Z +occurrence-already-resolved +am:disk +.*incident inc-disk-1/);
    expect(rows[1]).toMatch(/silenced +am:disk +.*silence sil-db-migration by alice \("db migration"\).*DiskFull db/);
    expect(rows[2]).toMatch(/inhibited +am:api +.*by incident inc-upstream \(am:upstream\), inhibit rule "upstream down"/);
    expect(rows[2]).not.toMatch(/abcd1234secret/);
    expect(rows[3]).toMatch(/dropped-by-rule +generic:noise +.*rule "drop noisy"/);
    expect(rows[6]).toMatch(/storm-control +grafana:cpu +.*storm in #storm: summary message C0STORM 1740934000\.000100, paged with the storm \(storm-page-1\), incident inc-cpu/);
    expect(run.stdout).toMatch(/7 decisions suppressed from 2025-03-02T00:00:00\.000Z to 2025-03-03T00:00:00\.000Z/);
    expect(run.stdout).toMatch(/^ +silenced +3$/m);
    expect(run.stdout).toMatch(/^ +storm-control +1$/m);
  });

  it('filters by --reason and --alias, widens with --since, and prints JSON', async () => {
    const silenced = await runCli('suppressed', '--reason', 'silenced', '--alias', 'am:disk', '--url', url);
    expect(silenced.stdout.trim().split('\n').filter((l) => l.startsWith('2025-'))).toHaveLength(2);
    // The counts under a --reason cover every reason, and say so.
    expect(silenced.stdout).toMatch(/decisions? suppressed for all reasons from /);

    const wide = await runCli('suppressed', '--since', '48h', '--url', url);
    expect(wide.stdout).toMatch(/am:old/);

    const json = JSON.parse((await runCli('suppressed', '--json', '--url', url)).stdout);
    expect(json.suppressed.map((s: { event_id: string }) => s.event_id)).toEqual(IN_WINDOW);
    expect(json.total).toBe(7);
  });

  it('says which option is wrong', async () => {
    const bad = await runCli('suppressed', '--since', 'yesterday', '--url', url);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/--since/);
    const reason = await runCli('suppressed', '--reason', 'bored', '--url', url);
    expect(reason.exitCode).not.toBe(0);
    expect(reason.stderr).toMatch(/reason/);
  });

  it.each([
    ['a date alone', '--from', '2025-03-02', /--from must be a date and time with its zone.*2025-03-02T00:00:00Z.*got "2025-03-02"/],
    ['a time without seconds', '--to', '2025-03-02T10:00Z', /--to must be a date and time with its zone.*got "2025-03-02T10:00Z"/],
    ['an offset without its colon', '--from', '2025-03-02T10:00:00+0100', /--from must be a date and time with its zone.*got "2025-03-02T10:00:00\+0100"/],
    ['a day the month does not have', '--from', '2025-02-30T10:00:00Z', /--from .*2025-02-30/],
    ['a 29 February of a year without one', '--to', '2025-02-29T10:00:00Z', /--to .*2025-02-29/],
  ])('refuses %s itself, naming the option, where the API would only answer 400 (as /api/incidents does)', async (_what, option, value, message) => {
    expect((await get(`/api/incidents?${option.slice(2)}=${encodeURIComponent(value)}`)).status).toBe(400);
    const run = await runCli('suppressed', option, value, '--url', url);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/400|query parameter/);
  });

  it('takes the same date-times the API takes', async () => {
    const run = await runCli('suppressed', '--from', '2025-03-01T00:00:00+00:00', '--to', '2025-03-03T00:00:00.000Z', '--url', url);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/am:old/);
  });
});
