/**
 * The query API against real Postgres: filters, keyset pages, an incident's timeline, stats and bad input.
 * The rows come from a realistic stream applied with the projection itself (no Kafka needed for reading).
 */
import { createPool, inTransaction, type Pool } from '@alertbus/common';
import { topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { buildTestApp, startTestHistoryApp, stopTestHistoryApp, type TestHistoryApp } from '../test-support/history-app';
import { applyProjection, MemoryStore, project, type IncidentRow } from '@alertbus/projection';
import { runCli } from '../../../../test/support/cli';
import { buildStream } from '../testdata/stream';

const NOW = new Date('2025-03-03T00:00:00.000Z');
const stream = buildStream({ aliases: 45, seed: 'query-api' });
const spec = new MemoryStore();
let pool: Pool;
let app: TestHistoryApp['app'];
let url: string;

async function load(pool: Pool, events: readonly AnyEnvelope[]): Promise<void> {
  const offsets = new Map<string, number>();
  await inTransaction(pool, async (client) => {
    for (const e of events) {
      const topic = topicOf(e.type);
      const offset = offsets.get(topic) ?? 0;
      offsets.set(topic, offset + 1);
      const p = project(e, { topic, partition: 0, offset: String(offset) });
      await applyProjection(client, p);
      spec.apply(p);
    }
  });
}

const get = async (path: string) => {
  const res = await app.inject({ method: 'GET', url: path });
  return { status: res.statusCode, body: res.json() };
};
const ids = (body: { incidents: Array<{ incident_id: string }> }) => body.incidents.map((i) => i.incident_id);

/** The specification's incidents, newest first, as the API orders them. */
const newestFirst = (rows: IncidentRow[]) =>
  [...rows].sort((a, b) => Date.parse(b.openedAt) - Date.parse(a.openedAt) || (a.incidentId < b.incidentId ? -1 : 1)).map((r) => r.incidentId);
const all = () => [...spec.incidents.values()];

beforeAll(async () => {
  ({ pool, app, url } = await startTestHistoryApp(NOW, (p) => load(p, stream.events)));
});

afterAll(() => stopTestHistoryApp({ app, pool }));

describe('GET /api/incidents filters', () => {
  it.each([
    ['status=resolved', (r: IncidentRow) => r.status === 'resolved'],
    ['status=acknowledged', (r: IncidentRow) => r.status === 'acknowledged'],
    ['source=grafana', (r: IncidentRow) => r.source === 'grafana'],
    ['severity=critical', (r: IncidentRow) => r.severity === 'critical'],
    ['channel=%23db-alerts', (r: IncidentRow) => r.slackTargetChannel === '#db-alerts'],
    // The channel's name without its `#`, as people write it outside Slack, is the same channel.
    ['channel=db-alerts', (r: IncidentRow) => r.slackTargetChannel === '#db-alerts'],
    ['channel=C0DBALERTS', (r: IncidentRow) => r.slackChannel === 'C0DBALERTS'],
    ['q=diskfilling', (r: IncidentRow) => /diskfilling/i.test(`${r.title} ${r.description}`)],
    ['q=api%20for%2010m', (r: IncidentRow) => (r.description ?? '').includes('api for 10m')],
    ['from=2025-03-01T09:00:00Z&to=2025-03-01T11:00:00Z', (r: IncidentRow) => r.openedAt >= '2025-03-01T09:00:00' && r.openedAt < '2025-03-01T11:00:00'],
    ['source=alertmanager&severity=critical&status=resolved', (r: IncidentRow) => r.source === 'alertmanager' && r.severity === 'critical' && r.status === 'resolved'],
  ])('%s gives exactly the matching incidents, newest first', async (query, match) => {
    const expected = newestFirst(all().filter(match));
    expect(expected.length).toBeGreaterThan(0);

    const { status, body } = await get(`/api/incidents?${query}&limit=500`);

    expect(status).toBe(200);
    expect(ids(body)).toEqual(expected);
    expect(body.next_cursor).toBeNull();
  });

  it('alias gives every occurrence of the alias, and keeps the response fields other tools read', async () => {
    const twice = stream.aliases.find((a) => a.incidentIds.length === 2)!;
    const { body } = await get(`/api/incidents?alias=${encodeURIComponent(twice.alias)}`);

    expect(ids(body)).toEqual([...twice.incidentIds].reverse());
    expect(body.incidents[0]).toMatchObject({
      incident_id: twice.incidentIds[1],
      alias: twice.alias,
      status: expect.any(String),
      count: expect.any(Number),
      occurrence: 2,
      previous_incident_id: twice.incidentIds[0],
      opened_at: expect.stringMatching(/Z$/),
      rule: { path: expect.any(String), rulesVersion: expect.any(String) },
    });
  });

  it('text search takes % and _ literally', async () => {
    expect((await get('/api/incidents?q=%25')).body.incidents).toEqual([]);
    expect((await get('/api/incidents?q=_')).body.incidents).toEqual([]);
  });
});

describe('GET /api/incidents pages', () => {
  it('walking next_cursor visits every incident once, in the order of one big page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { body }: { body: any } = await get(`/api/incidents?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(body.incidents.length).toBeLessThanOrEqual(7);
      seen.push(...ids(body));
      cursor = body.next_cursor;
      pages += 1;
    } while (cursor);

    expect(seen).toEqual(newestFirst(all()));
    expect(pages).toBe(Math.ceil(all().length / 7));
  });

  it('a cursor keeps working with the same filters', async () => {
    const first = await get('/api/incidents?status=resolved&limit=3');
    const second = await get(`/api/incidents?status=resolved&limit=3&cursor=${first.body.next_cursor}`);

    expect([...ids(first.body), ...ids(second.body)]).toEqual(newestFirst(all().filter((r) => r.status === 'resolved')).slice(0, 6));
  });

  it('a cursor keeps working with another page size', async () => {
    const first = await get('/api/incidents?severity=critical&limit=2');
    const second = await get(`/api/incidents?severity=critical&limit=5&cursor=${first.body.next_cursor}`);

    expect([...ids(first.body), ...ids(second.body)]).toEqual(newestFirst(all().filter((r) => r.severity === 'critical')).slice(0, 7));
  });

  // It gave a page of the other list starting somewhere in the middle, without a word.
  it.each([
    ['status=resolved', 'status=open'],
    ['status=resolved', ''],
    ['q=disk', 'q=api'],
    ['from=2025-03-01T00:00:00Z', 'from=2025-03-01T00:00:01Z'],
  ])('a cursor made for %j, passed with %j, is refused: 400 naming the problem', async (made, passed) => {
    const first = await get(`/api/incidents?${made}&limit=1`);
    expect(first.body.next_cursor).toEqual(expect.any(String));

    const { status, body } = await get(`/api/incidents?${passed}&limit=1&cursor=${first.body.next_cursor}`);

    expect(status).toBe(400);
    expect(body).toEqual({ error: 'bad_request', message: 'cursor was made for other filters: pass the same filters as the page it came from' });
  });

  it('the same filters in another order or spelling of the same instant are the same filters', async () => {
    const first = await get('/api/incidents?status=resolved&from=2025-03-01T00:00:00Z&limit=1');
    const second = await get(`/api/incidents?from=2025-03-01T01:00:00%2B01:00&limit=1&status=resolved&cursor=${first.body.next_cursor}`);

    expect(second.status).toBe(200);
  });

  it('a cursor handed out before cursors named their filters is refused, saying to start from the first page', async () => {
    const old = Buffer.from(JSON.stringify({ t: '2025-03-01T10:00:00.000000Z', i: 'x' })).toString('base64url');
    const { status, body } = await get(`/api/incidents?cursor=${old}`);

    expect(status).toBe(400);
    expect(body).toEqual({
      error: 'bad_request',
      message: 'cursor was made by an earlier version of the history API, which did not record its filters: start again from the first page',
    });
  });
});

describe('GET /api/incidents bad input', () => {
  it.each([
    ['cursor=not-a-cursor!', /invalid query parameter "cursor"|invalid cursor/],
    [`cursor=${Buffer.from('{"t":"yesterday","i":"x"}').toString('base64url')}`, /invalid cursor/],
    ['from=yesterday', /query parameter "from".*date-time/],
    ['to=2025-03-01', /query parameter "to".*date-time/],
    ['from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z', /"from" must be before "to"/],
    ['limit=501', /query parameter "limit".*500/],
    [`q=${'x'.repeat(201)}`, /query parameter "q"/],
    ['channel=', /query parameter "channel"/],
    ['sort=title', /unknown query parameter "sort"/],
  ])('%s → 400 with a message naming the problem', async (query, message) => {
    const { status, body } = await get(`/api/incidents?${query}`);

    expect(status).toBe(400);
    expect(body).toEqual({ error: 'bad_request', message: expect.stringMatching(message) });
  });
});

describe('GET /api/incidents/:id', () => {
  it('gives the whole timeline in order: inputs, decisions with reason and rule, commands, deliveries', async () => {
    const paged = stream.aliases.find((a) => a.severity === 'critical')!;
    const id = paged.incidentIds[0]!;
    const { status, body } = await get(`/api/incidents/${id}`);

    expect(status).toBe(200);
    expect(body.timeline.map((e: { event_id: string }) => e.event_id)).toEqual(spec.timelineOf(id).map((r) => r.eventId));
    expect(body.timeline.slice(0, 4).map((e: { type: string; stage: string }) => [e.type, e.stage])).toEqual([
      ['AlertReceived', 'received'],
      ['IncidentOpened', 'decided'],
      ['CreatePagerAlert', 'command'],
      ['PostSlackMessage', 'command'],
    ]);
    for (const e of body.timeline.filter((x: { stage: string }) => x.stage === 'decided')) {
      expect(e).toMatchObject({ reason: expect.any(String), rule: { path: expect.any(String), rulesVersion: expect.any(String) } });
    }
    expect(body.deliveries.map((d: { type: string }) => d.type)).toEqual(expect.arrayContaining(['SlackMessagePosted', 'PagerAlertCreated']));
    expect(body).toMatchObject({ incident_id: id, pager_alert_id: expect.stringMatching(/^og-/), slack_root_ts: expect.any(String) });
  });

  it('a flapping incident\'s answer carries its first 2000 timeline entries and says it is cut, rather than all of them at once', async () => {
    const source = stream.aliases.find((a) => a.severity === 'critical')!.incidentIds[0]!;
    const first = (await pool.query('SELECT event_id FROM incident_timeline WHERE incident_id = $1 LIMIT 1', [source])).rows[0].event_id;
    await pool.query(
      `INSERT INTO incidents SELECT (jsonb_populate_record(i, jsonb_build_object('incident_id', 'flapping-1', 'alias', 'flapping:1'))).* FROM incidents i WHERE incident_id = $1`,
      [source],
    );
    await pool.query(
      `INSERT INTO incident_timeline
       SELECT (jsonb_populate_record(t, jsonb_build_object('event_id', 'flap-' || g, 'incident_id', 'flapping-1', 'alias', 'flapping:1', 'offset', 900000 + g))).*
         FROM incident_timeline t, generate_series(1, 2100) g WHERE t.event_id = $1`,
      [first],
    );
    try {
      const { status, body } = await get('/api/incidents/flapping-1');
      expect(status).toBe(200);
      expect(body.timeline).toHaveLength(2000);
      expect(body.truncated).toBe(true);
      expect((await get(`/api/incidents/${source}`)).body.truncated).toBe(false);
    } finally {
      await pool.query("DELETE FROM incident_timeline WHERE incident_id = 'flapping-1'");
      await pool.query("DELETE FROM incidents WHERE incident_id = 'flapping-1'");
    }
  });

  it('an unknown id is a 404', async () => {
    expect(await get('/api/incidents/nope')).toEqual({ status: 404, body: { error: 'not_found', message: 'no incident with id "nope"' } });
  });
});

describe('GET /api/timeline', () => {
  it('pages through every event of an alias, inputs linked to their incident', async () => {
    const alias = stream.aliases.find((a) => a.incidentIds.length === 2)!.alias;
    const events: Array<{ event_id: string; incident_id: string | null; type: string }> = [];
    let cursor: string | null = null;
    do {
      const { body }: { body: any } = await get(`/api/timeline?alias=${encodeURIComponent(alias)}&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      events.push(...body.events);
      cursor = body.next_cursor;
    } while (cursor);

    expect(events.map((e) => e.event_id)).toEqual(spec.timelineOfAlias(alias).map((r) => r.eventId));
    expect(events.filter((e) => e.type === 'AlertReceived').every((e) => e.incident_id !== null)).toBe(true);
  });

  it('a cursor is for the alias it was made for: passed with another alias it is refused, not a page of that alias from the middle', async () => {
    const [one, other] = stream.aliases.filter((a) => a.incidentIds.length === 2).map((a) => a.alias);
    const first = await get(`/api/timeline?alias=${encodeURIComponent(one!)}&limit=2`);
    const cursor = first.body.next_cursor as string;

    const same = await get(`/api/timeline?alias=${encodeURIComponent(one!)}&limit=2&cursor=${cursor}`);
    const another = await get(`/api/timeline?alias=${encodeURIComponent(other!)}&limit=2&cursor=${cursor}`);

    expect(same.status).toBe(200);
    expect(another).toEqual({ status: 400, body: { error: 'bad_request', message: 'cursor was made for another alias: pass the alias of the page it came from' } });
  });

  it('a cursor handed out before timeline cursors named their alias is refused, saying to start from the first page', async () => {
    const alias = stream.aliases[0]!.alias;
    const old = Buffer.from(JSON.stringify({ r: '2025-03-01T10:00:00.000000Z', s: 0, t: 'alerts.received.v1', p: 0, o: '3', e: 'x' })).toString('base64url');
    const { status, body } = await get(`/api/timeline?alias=${encodeURIComponent(alias)}&cursor=${old}`);

    expect(status).toBe(400);
    expect(body.message).toMatch(/^cursor was made by an earlier version of the history API.*start again from the first page$/);
  });
});

/** percentile_cont: linear interpolation between the closest ranks. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const rank = p * (v.length - 1);
  const lo = Math.floor(rank);
  return Math.round((v[lo]! + (v[Math.ceil(rank)]! - v[lo]!) * (rank - lo)) * 1000) / 1000;
}

describe('GET /api/stats', () => {
  it('counts per source and severity, time to acknowledge and resolve, pages per day, noisiest aliases', async () => {
    const { status, body } = await get('/api/stats?from=2025-03-01T00:00:00Z&to=2025-03-02T00:00:00Z');
    const rows = all();
    const count = (key: 'source' | 'severity') =>
      Object.entries(rows.reduce<Record<string, number>>((m, r) => ({ ...m, [r[key]]: (m[r[key]] ?? 0) + 1 }), {}))
        .map(([k, n]) => ({ [key]: k, count: n }))
        .sort((a, b) => b.count - a.count || (a[key]! < b[key]! ? -1 : 1));
    // From when the sender says it started (else when alertbus opened it), to when the sender says it ended (else resolved).
    const secs = (r: IncidentRow, at: string | null) => (at ? (Date.parse(at) - Date.parse(r.startedAt ?? r.openedAt)) / 1000 : null);
    const tta = rows.map((r) => secs(r, r.acknowledgedAt)).filter((x): x is number => x !== null);
    const ttr = rows.map((r) => secs(r, r.resolvedAt && (r.endedAt ?? r.resolvedAt))).filter((x): x is number => x !== null);
    // The stream's Alertmanager and Grafana alerts carry the sender's times, its generic ones none: both kinds are measured.
    expect(rows.filter((r) => r.startedAt !== null && r.startedAt !== r.openedAt && r.endedAt !== null).length).toBeGreaterThan(5);
    expect(rows.filter((r) => r.startedAt === null && r.resolvedAt !== null).length).toBeGreaterThan(5);

    expect(status).toBe(200);
    expect(body.incidents.total).toBe(rows.length);
    expect(body.incidents.by_source).toEqual(count('source'));
    expect(body.incidents.by_severity).toEqual(count('severity'));
    expect(body.time_to_acknowledge).toEqual({ count: tta.length, median_seconds: percentile(tta, 0.5), p90_seconds: percentile(tta, 0.9) });
    expect(body.time_to_resolve).toEqual({ count: ttr.length, median_seconds: percentile(ttr, 0.5), p90_seconds: percentile(ttr, 0.9) });
    const pages = [...spec.deliveries.values()].filter((d) => d.type === 'PagerAlertCreated' && d.ok);
    expect(body.pages_per_day).toEqual([{ day: '2025-03-01', pages: pages.length, dry_run: 0 }]);
    expect(body.incidents_per_day).toEqual([{ day: '2025-03-01', count: rows.length }]);
    const noisiest = body.noisiest_aliases;
    expect(noisiest.length).toBe(10);
    for (let i = 1; i < noisiest.length; i++) expect(noisiest[i - 1].alerts).toBeGreaterThanOrEqual(noisiest[i].alerts);
    const top = rows.filter((r) => r.alias === noisiest[0].alias);
    expect(noisiest[0]).toEqual({ alias: top[0]!.alias, incidents: top.length, alerts: top.reduce((n, r) => n + r.count, 0) });
  });

  it('defaults to the 30 days before now, and refuses a window that ends before it starts', async () => {
    const { body } = await get('/api/stats');
    expect(body).toMatchObject({ from: '2025-02-01T00:00:00.000Z', to: NOW.toISOString(), incidents: { total: all().length } });

    expect(await get('/api/stats?from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z')).toEqual({
      status: 400,
      body: { error: 'bad_request', message: 'invalid query parameters: "from" must be before "to"' },
    });
    expect((await get('/api/stats?from=monday')).status).toBe(400);
  });
});

describe('a value Postgres cannot hold (a NUL byte)', () => {
  it.each(['/api/incidents?q=a%00b', '/api/incidents?alias=a%00', '/api/incidents/a%00b', '/api/timeline?alias=a%00', '/api/silences/a%00', '/api/notifications?q=%00'])(
    '%s → 400 naming it, not a 500',
    async (url) => {
      const { status, body } = await get(url);
      expect(status).toBe(400);
      expect(body).toEqual({ error: 'bad_request', message: expect.stringMatching(/^a value in the request cannot be used: invalid byte sequence for encoding "UTF8": 0x00/) });
    },
  );
});

describe('GET /api/notifications', () => {
  it('hides credentials in what was sent, as the timeline does (a failing job\'s command line and output)', async () => {
    await pool.query(
      `INSERT INTO notifications (notification_id, kind, tag, title, text, requested_at)
       VALUES ('n-secret', 'tag', 'ops', $1, $2, '2025-03-01T09:30:00Z')`,
      [
        'Failed on host1: curl -H "Authorization: Bearer abcd1234secret" https://x',
        'output: xoxb-1111-2222-ABCDEFG https://u:pw@hooks.example/x?token=zzz https://hooks.slack.com/services/T0/B0/XXXX',
      ],
    );
    const { status, body } = await get('/api/notifications');
    expect(status).toBe(200);
    const n = body.notifications.find((x: { notification_id: string }) => x.notification_id === 'n-secret');
    expect(n.title).toBe('Failed on host1: curl -H "Authorization: Bearer [redacted]" https://x');
    expect(n.text).toBe('output: [redacted] https://[redacted]@hooks.example/x?token=[redacted] [redacted: admin only]');
  });

  it('channel=batch-crit and channel=#batch-crit find the same notifications, as the incidents filter does', async () => {
    await pool.query(
      `INSERT INTO notifications (notification_id, kind, tag, title, text, requested_at, channel)
       VALUES ('n-chan-1', 'tag', 'batch', 't', 'x', '2025-03-01T09:40:00Z', '#batch-crit'),
              ('n-chan-2', 'tag', 'batch', 't', 'x', '2025-03-01T09:41:00Z', 'batch-crit'),
              ('n-chan-3', 'tag', 'batch', 't', 'x', '2025-03-01T09:42:00Z', '#other')`,
    );
    const ids = async (q: string) => (await get(`/api/notifications?channel=${encodeURIComponent(q)}`)).body.notifications.map((n: { notification_id: string }) => n.notification_id);
    expect(await ids('batch-crit')).toEqual(['n-chan-2', 'n-chan-1']);
    expect(await ids('#batch-crit')).toEqual(['n-chan-2', 'n-chan-1']);
    await pool.query("DELETE FROM notifications WHERE notification_id LIKE 'n-chan-%'");
  });

  it('a cursor is for the filters it was made for: another tag, or an incidents cursor, is refused', async () => {
    for (let i = 0; i < 4; i++) {
      await pool.query(
        `INSERT INTO notifications (notification_id, kind, tag, title, text, requested_at) VALUES ($1, 'tag', $2, 't', 'x', $3)`,
        [`n-page-${i}`, i % 2 ? 'deploys' : 'batch', `2025-03-01T10:0${i}:00Z`],
      );
    }
    const first = await get('/api/notifications?tag=deploys&limit=1');
    const second = await get(`/api/notifications?tag=deploys&limit=1&cursor=${first.body.next_cursor}`);
    expect([...first.body.notifications, ...second.body.notifications].map((n: { notification_id: string }) => n.notification_id)).toEqual([
      'n-page-3',
      'n-page-1',
    ]);

    const refused = { error: 'bad_request', message: 'cursor was made for other filters: pass the same filters as the page it came from' };
    expect(await get(`/api/notifications?tag=batch&limit=1&cursor=${first.body.next_cursor}`)).toEqual({ status: 400, body: refused });
    const incidents = await get('/api/incidents?limit=1');
    expect(await get(`/api/notifications?limit=1&cursor=${incidents.body.next_cursor}`)).toEqual({ status: 400, body: refused });
    await pool.query("DELETE FROM notifications WHERE notification_id LIKE 'n-page-%'");
  });
});

describe('date-times the schema let through but nothing after it could read', () => {
  // An offset without minutes and a leap second (Date.parse: NaN), year 0000 (Postgres refuses it): each was a 500.
  it.each([
    ['/api/silences?now=2025-03-01T10:00:00%2B01', 'now'],
    ['/api/silences?now=2025-06-30T23:59:60Z', 'now'],
    ['/api/stats?from=2025-03-01T10:00:00%2B01&to=2025-03-02T10:00:00Z', 'from'],
    ['/api/stats?to=2025-06-30T23:59:60Z', 'to'],
    ['/api/incidents?from=0000-01-01T00:00:00Z', 'from'],
    ['/api/incidents?from=2025-03-02T10:00:00%2B01&to=2025-03-01T10:00:00Z', 'from'],
    // A day the month does not have: Date.parse rolls it over (Feb 30 → Mar 2) and a window silently moved.
    ['/api/suppressed?from=2026-02-30T00:00:00Z', 'from'],
    ['/api/stats?to=2025-02-29T00:00:00Z', 'to'],
    ['/api/incidents?from=2025-04-31T00:00:00Z', 'from'],
    ['/api/incidents?to=2025-13-01T00:00:00Z', 'to'],
  ])('%s → 400 naming %s', async (url, name) => {
    const { status, body } = await get(url);
    expect(status).toBe(400);
    expect(body).toEqual({
      error: 'bad_request',
      message: `invalid query parameter "${name}": must be a date-time with its offset, as 2025-03-01T10:00:00Z or 2025-03-01T11:00:00+01:00 (years 0001–9999)`,
    });
  });

  it('every RFC 3339 form Date reads is taken: Z or a full offset, a fraction, a space for the T', async () => {
    for (const t of ['2025-03-01T10:00:00Z', '2025-03-01T11:00:00.5%2B01:00', '2025-03-01%2010:00:00z', '0001-01-01T00:00:00Z']) {
      expect((await get(`/api/incidents?from=${t}`)).status).toBe(200);
    }
  });

  it('a window within one millisecond is a window (Postgres keeps microseconds), and the stats default window stops at the year 1', async () => {
    for (const path of ['/api/incidents', '/api/notifications']) {
      expect((await get(`${path}?from=2025-03-01T10:00:00.0001Z&to=2025-03-01T10:00:00.0009Z`)).status).toBe(200);
      expect((await get(`${path}?from=2025-03-01T10:00:00.0009Z&to=2025-03-01T10:00:00.0001Z`)).status).toBe(400);
    }
    const early = await get('/api/stats?to=0001-01-15T00:00:00Z');
    expect(early.status).toBe(200);
  });
});

describe('GET /api/silences past its limit', () => {
  it('says the list is cut (the oldest silences, the likeliest forgotten, were left out without a word)', async () => {
    for (let i = 0; i < 3; i++) {
      await pool.query(
        `INSERT INTO silences (silence_id, kind, matchers, starts_at, ends_at, created_by, comment, created_at)
         VALUES ($1, 'silence', '["host=\\"h"]', '2025-03-01T08:00:00Z', '2025-03-01T20:00:00Z', 'test', 'many', $2)`,
        [`many-${i}`, `2025-03-01T08:0${i}:00Z`],
      );
    }
    const cut = await get('/api/silences?state=active&now=2025-03-01T10:00:00Z&limit=2');
    expect(cut.body).toMatchObject({ truncated: true });
    expect(cut.body.silences).toHaveLength(2);
    const whole = await get('/api/silences?state=active&now=2025-03-01T10:00:00Z&limit=1000');
    expect(whole.body.truncated).toBe(false);
    expect(whole.body.silences.length).toBeGreaterThanOrEqual(3);
    await pool.query("DELETE FROM silences WHERE silence_id LIKE 'many-%'");
  });
});

describe('GET /api/silences pages', () => {
  /** 1,205 silences active at NOW, created a second apart, with a tie on created_at at the page boundary. */
  const MANY = 1205;
  beforeAll(async () => {
    await pool.query(
      `INSERT INTO silences (silence_id, kind, matchers, starts_at, ends_at, created_by, comment, created_at)
       SELECT 'page-' || lpad(n::text, 4, '0'), 'silence', '["host=\\"h"]', '2025-03-02T00:00:00Z', '2025-03-04T00:00:00Z', 'test', 'paged',
              '2025-03-02T00:00:00Z'::timestamptz + make_interval(secs => CASE WHEN n IN (200, 201) THEN 200 ELSE n END)
         FROM generate_series(1, ${MANY}) n`,
    );
  });
  afterAll(() => pool.query("DELETE FROM silences WHERE silence_id LIKE 'page-%'"));

  const paged = (ids: string[]) => ids.filter((id) => id.startsWith('page-'));
  /** Newest first, the id breaking ties, as the list is ordered. */
  const expectedIds = () => {
    const rows = Array.from({ length: MANY }, (_, k) => ({ id: `page-${String(k + 1).padStart(4, '0')}`, at: k + 1 === 201 ? 200 : k + 1 }));
    return rows.sort((a, b) => b.at - a.at || (a.id < b.id ? -1 : 1)).map((r) => r.id);
  };

  it('walking next_cursor lists every silence once, past 1000, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body }: { status: number; body: any } = await get(`/api/silences?state=active&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      seen.push(...body.silences.map((s: { silence_id: string }) => s.silence_id));
      expect(body.truncated).toBe(body.next_cursor !== null);
      cursor = body.next_cursor;
      pages += 1;
    } while (cursor);

    expect(pages).toBe(2);
    expect(paged(seen)).toEqual(expectedIds());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('pages of 200 split a tie on created_at without losing or repeating one', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const { body }: { body: any } = await get(`/api/silences?state=active&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.silences.map((s: { silence_id: string }) => s.silence_id));
      cursor = body.next_cursor;
    } while (cursor);

    expect(paged(seen)).toEqual(expectedIds());
  });

  it('a next page computes states for the instant of the first page, and is refused for another state or instant', async () => {
    const first = await get('/api/silences?state=active&now=2025-03-03T12:00:00Z&limit=10');
    const second = await get(`/api/silences?state=active&limit=10&cursor=${first.body.next_cursor}`);
    expect(second.body.now).toBe('2025-03-03T12:00:00.000Z');

    const refused = { error: 'bad_request', message: 'cursor was made for other filters: pass the same filters as the page it came from' };
    expect(await get(`/api/silences?state=all&limit=10&cursor=${first.body.next_cursor}`)).toEqual({ status: 400, body: refused });
    expect(await get(`/api/silences?state=active&now=2025-03-03T13:00:00Z&limit=10&cursor=${first.body.next_cursor}`)).toEqual({
      status: 400,
      body: refused,
    });
    const incidents = await get('/api/incidents?limit=1');
    expect(await get(`/api/silences?limit=10&cursor=${incidents.body.next_cursor}`)).toEqual({ status: 400, body: refused });
    expect((await get('/api/silences?cursor=not-a-cursor!')).status).toBe(400);
  });

  it('alertbus silence list shows all of them, following the pages', async () => {
    const listed = await runCli('silence', 'list', '--json', '--url', url);
    expect(listed.exitCode).toBe(0);
    const body = JSON.parse(listed.stdout);
    expect(paged(body.silences.map((s: { silence_id: string }) => s.silence_id))).toEqual(expectedIds());
    expect(body.next_cursor).toBeNull();

    const table = await runCli('silence', 'list', '--url', url);
    expect(table.stdout.trim().split('\n').filter((line) => line.startsWith('page-'))).toHaveLength(MANY);
    expect(table.stderr).toBe('');

    const few = await runCli('silence', 'list', '--limit', '3', '--url', url);
    expect(few.stdout.trim().split('\n')).toHaveLength(4);
    expect(few.stderr).toMatch(/the newest 3 active silences are shown; there are more/);
  });
});

describe('GET /api/silences', () => {
  it('computes each silence state for the instant asked about', async () => {
    const at = (now: string, state = 'all') => get(`/api/silences?state=${state}&now=${now}`);
    const [silence] = (await at('2025-03-01T09:00:00Z')).body.silences;
    expect(silence).toMatchObject({ kind: 'maintenance', state: 'active', matchers: ['team="db"', 'alertname="BackupLate"'] });

    expect((await at('2025-03-01T07:00:00Z', 'pending')).body.silences).toHaveLength(1);
    expect((await at('2025-03-01T09:00:00Z', 'active')).body.silences).toHaveLength(1);
    expect((await at('2025-03-01T09:00:00Z', 'expired')).body.silences).toHaveLength(0);
    expect((await at('2025-03-01T13:00:00Z', 'expired')).body.silences).toHaveLength(1);
    expect((await get('/api/silences')).body).toMatchObject({ state: 'active', now: NOW.toISOString(), silences: [] });
    expect((await get('/api/silences?state=soon')).body.message).toMatch(/query parameter "state".*active, pending, expired, all/);
  });
});

describe('documentation', () => {
  it('serves the OpenAPI document and Swagger UI at /docs, from this server only', async () => {
    const doc = await get('/docs/json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/incidents', '/api/incidents/{id}', '/api/stats', '/api/silences', '/api/silences/{id}', '/api/timeline']),
    );
    expect(doc.body.paths['/api/incidents'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['status', 'source', 'severity', 'alias', 'channel', 'from', 'to', 'q', 'cursor', 'limit']),
    );
    const ui = await app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger-ui');
    expect(ui.body).not.toMatch(/https?:\/\//);
  });
});

describe('alertbus incidents', () => {
  it('lists with filters as a table, or as JSON', async () => {
    const table = await runCli('incidents', '--status', 'resolved', '--source', 'grafana', '--url', url);
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/^opened\s+started\s+status\s+severity\s+source\s+count/);
    const expected = newestFirst(all().filter((r) => r.status === 'resolved' && r.source === 'grafana'));
    expect(table.stdout.trim().split('\n')).toHaveLength(expected.length + 1);

    const json = JSON.parse((await runCli('incidents', '--severity', 'critical', '--limit', '2', '--json', '--url', url)).stdout);
    expect(json.incidents).toHaveLength(2);
    expect(json.next_cursor).toEqual(expect.any(String));
    const next = await runCli('incidents', '--severity', 'critical', '--limit', '2', '--url', url);
    expect(next.stdout).toContain(`--cursor ${json.next_cursor}`);
  });

  it('shows one incident and its timeline, and reports API errors clearly', async () => {
    const id = stream.aliases[0]!.incidentIds[0]!;
    const show = await runCli('incidents', 'show', id, '--url', url);
    expect(show).toMatchObject({ exitCode: 0, stderr: '' });
    expect(show.stdout).toContain(stream.aliases[0]!.title);
    expect(show.stdout).toMatch(/received\s+AlertReceived/);
    expect(show.stdout).toMatch(/decided\s+IncidentOpened .*\[first-notification\]/);

    const missing = await runCli('incidents', 'show', 'nope', '--url', url);
    expect(missing).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('404 no incident with id "nope"') });
    const bad = await runCli('incidents', '--status', 'bogus', '--url', url);
    expect(bad.stderr).toMatch(/400 invalid query parameter "status"/);
    const down = await runCli('incidents', '--url', 'http://127.0.0.1:9');
    expect(down.stderr).toMatch(/cannot reach the history API at http:\/\/127\.0\.0\.1:9/);
  });
});

describe('Postgres not answering', () => {
  it('is a 503 with Retry-After that says so, not a 500', async () => {
    // Nothing listens on port 1: every query fails to connect, as while the database is down or restarting.
    const down = createPool('postgres://postgres@127.0.0.1:1/test');
    const broken = buildTestApp(down, NOW);
    try {
      const res = await broken.inject({ method: 'GET', url: '/api/incidents?limit=5' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toEqual({ error: 'unavailable', message: expect.stringContaining('Postgres or Kafka is not answering') });
    } finally {
      await broken.close();
      await down.end();
    }
  });
});

describe('a query stopped by the statement timeout', () => {
  it('is a 503 that says the query ran too long and how to narrow it, not that Postgres is not answering', async () => {
    // Another session holds the incidents table: the request waits until PG_STATEMENT_TIMEOUT_MS stops it, as a
    // search over a year of a large history does.
    const slow = createPool(process.env.DATABASE_URL!, 2, { connectTimeoutMs: 5_000, statementTimeoutMs: 300 });
    const holder = await pool.connect();
    const timed = buildTestApp(slow, NOW);
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE');
      const res = await timed.inject({ method: 'GET', url: '/api/incidents?limit=5' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: 'query_timeout', message: expect.stringContaining('ran longer than the statement timeout (PG_STATEMENT_TIMEOUT_MS)') });
      expect(res.json().message).not.toMatch(/not answering/);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      await timed.close();
      await slow.end();
    }
  });
});

describe('credentials in what senders wrote', () => {
  it('are hidden in the incident list and the incident itself, as in its timeline', async () => {
    const target = all()[0]!;
    const before = await pool.query('SELECT title, labels, description, links FROM incidents WHERE incident_id = $1', [target.incidentId]);
    await pool.query('UPDATE incidents SET title = $2, labels = $3, description = $4, links = $5 WHERE incident_id = $1', [
      target.incidentId,
      'Login failed: curl -H "Authorization: Bearer abcd1234secret" https://x',
      JSON.stringify({ alertname: 'LoginFailed', dsn: 'postgres://app:DBPASS123@db:5432/x' }),
      'bot token xoxb-1111-2222-ABCDEFG leaked',
      JSON.stringify([{ title: 'graph', url: 'https://u:GENPW@prom.example/graph?token=GENTOKEN' }]),
    ]);
    try {
      const list = await get(`/api/incidents?alias=${encodeURIComponent(target.alias)}`);
      const one = await get(`/api/incidents/${target.incidentId}`);
      for (const shown of [list.body.incidents.find((i: { incident_id: string }) => i.incident_id === target.incidentId), one.body]) {
        expect(shown.title).toBe('Login failed: curl -H "Authorization: Bearer [redacted]" https://x');
        expect(shown.labels).toEqual({ alertname: 'LoginFailed', dsn: '[redacted]' });
        expect(shown.description).toBe('bot token [redacted] leaked');
        expect(JSON.stringify(shown.links)).not.toMatch(/GENPW|GENTOKEN/);
      }
      // A search does not look into them: it would tell a hidden secret one guess at a time. What is shown is found.
      const found = async (q: string) => ids((await get(`/api/incidents?q=${encodeURIComponent(q)}`)).body);
      for (const secret of ['abcd1234secret', 'abcd1234', 'xoxb-1111', 'ABCDEFG']) expect(await found(secret)).toEqual([]);
      expect(await found('bot token')).toEqual([target.incidentId]);
      expect(await found('LOGIN FAILED: CURL')).toEqual([target.incidentId]);
    } finally {
      const b = before.rows[0];
      await pool.query('UPDATE incidents SET title = $2, labels = $3, description = $4, links = $5 WHERE incident_id = $1', [
        target.incidentId,
        b.title,
        JSON.stringify(b.labels),
        b.description,
        JSON.stringify(b.links),
      ]);
    }
  });
});

describe('a search among many rows that match only in hidden text', () => {
  it('reads at most 2,000 of them per page: a page may be short, even empty, and its cursor goes on to the rest', async () => {
    // 2,100 notifications whose only mention of the word is a password, newer than one that shows it.
    await pool.query(
      `INSERT INTO notifications (notification_id, kind, tag, title, text, requested_at)
       SELECT 'n-hidden-' || lpad(i::text, 4, '0'), 'tag', 'ops', 'db job failed', 'mysql --password=Wyvern7rocks -h db',
              timestamptz '2025-03-02T12:00:00Z' - i * interval '1 second'
         FROM generate_series(1, 2100) AS i`,
    );
    await pool.query(
      `INSERT INTO notifications (notification_id, kind, tag, title, text, requested_at)
       VALUES ('n-shown', 'tag', 'ops', 'Wyvern7rocks is the job', 'said in the open', '2025-03-02T10:00:00Z')`,
    );
    try {
      const first = await get('/api/notifications?q=wyvern7&limit=5');
      expect(first.status).toBe(200);
      expect(first.body.notifications).toEqual([]);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await get(`/api/notifications?q=wyvern7&limit=5&cursor=${first.body.next_cursor}`);
      expect(second.body.notifications.map((n: { notification_id: string }) => n.notification_id)).toEqual(['n-shown']);
      expect(second.body.next_cursor).toBeNull();
      // Without the search, the hidden ones are listed, their password hidden.
      const listed = await get('/api/notifications?limit=1&from=2025-03-02T11:00:00Z');
      expect(listed.body.notifications[0].text).toBe('mysql --password=[redacted] -h db');
    } finally {
      await pool.query(`DELETE FROM notifications WHERE notification_id LIKE 'n-hidden-%' OR notification_id = 'n-shown'`);
    }
  });
});
