/**
 * `alertbus audit` and `alertbus replay` against real Kafka: the story read from the topics is the timeline the
 * API shows, a tampered projection is caught, and a replay lists every record of a window, invalid ones included.
 */
import type { Kafka } from 'kafkajs';
import { ensureDatabase } from '@alertbus/common';
import { HEADERS, TOPICS } from '@alertbus/schemas';
import { dropTestDatabase } from '../../../../test/support/db';
import { testBrokers, testKafka } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';
import { startHistory, type HistoryService } from '../index';
import { produceStream } from '../testdata/produce';
import { runCli } from '../../../../test/support/cli';
import { buildStream } from '../testdata/stream';

let kafka: Kafka;
let service: HistoryService;
const stream = buildStream({ aliases: 12, seed: 'audit' });
// An alias that fired twice (resolved, then reopened): two incidents.
const reopened = stream.aliases.find((a) => a.incidentIds.length === 2)!;
// Written after the stream (record times grow along a partition, as the producers write them).
const badAt = Date.parse('2025-03-01T23:00:00.000Z');

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-audit');
  await produceStream(kafka, stream.events);
  // A record that fails its schema, written by hand into the window the replay test reads.
  const raw = kafka.producer();
  await raw.connect();
  await raw.send({
    topic: TOPICS.incidents,
    acks: -1,
    messages: [{ key: reopened.alias, value: '{"type":"IncidentOpened","id":"hand-written"}', timestamp: String(badAt), headers: { [HEADERS.eventType]: 'IncidentOpened' } }],
  });
  await raw.disconnect();
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });
  process.env.HISTORY_URL = service.url;
  await waitFor(
    async () => Number((await service.pool.query('SELECT count(*) FROM incident_timeline')).rows[0].count) === stream.events.length,
    { what: 'the stream projected' },
  );
});

afterAll(async () => {
  delete process.env.HISTORY_URL;
  await service?.close();
  await dropTestDatabase();
});

async function apiTimeline(incidentId: string): Promise<string[]> {
  const body = (await (await fetch(`${service.url}/api/incidents/${incidentId}`)).json()) as { timeline: Array<{ event_id: string }> };
  return body.timeline.map((e) => e.event_id);
}

describe('alertbus audit', () => {
  it('lists, per incident, the same events in the same order as the incident timeline in the API', async () => {
    const run = await runCli('audit', reopened.alias, '--json');
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout);

    expect(result.story.incidents.map((i: { incidentId: string }) => i.incidentId).sort()).toEqual([...reopened.incidentIds].sort());
    for (const incidentId of reopened.incidentIds) {
      const fromTopics = result.story.incidents.find((i: { incidentId: string }) => i.incidentId === incidentId).entries;
      expect(fromTopics.map((e: { event: { id: string } }) => e.event.id)).toEqual(await apiTimeline(incidentId));
      expect(fromTopics.map((e: { event: { type: string } }) => e.event.type)).toEqual(
        expect.arrayContaining(['AlertReceived', 'PostSlackMessage', 'SlackMessagePosted', 'IncidentResolved']),
      );
    }
    expect(result.comparison).toMatchObject({ agrees: true, disagreements: [] });
    // The hand-written record is listed with its reason, not skipped.
    expect(result.story.invalid).toEqual([expect.objectContaining({ topic: TOPICS.incidents, error: expect.stringContaining('envelope invalid') })]);
  });

  it('tells the story as text, with the reason and rule of every decision', async () => {
    const run = await runCli('audit', reopened.alias);

    expect(run.stdout).toContain(`incident ${reopened.incidentIds[0]}`);
    expect(run.stdout).toMatch(/IncidentOpened .*\[first-notification\] — rule /);
    expect(run.stdout).toMatch(/IncidentReopened .*\[reopened\]/);
    expect(run.stdout).toContain('records that fail their schema');
    expect(run.stdout).toMatch(/projection \(http:\/\/127\.0\.0\.1:\d+\): agrees — \d+ events/);
  });

  it('says where the projection disagrees with the topics, and exits 1', async () => {
    const victim = (await apiTimeline(reopened.incidentIds[0]!))[1]!;
    await service.pool.query('DELETE FROM incident_timeline WHERE event_id = $1', [victim]);

    const run = await runCli('audit', reopened.alias);

    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('DISAGREES');
    expect(run.stdout).toMatch(new RegExp(`missing\\s+\\w+\\s+${victim}`));
  });

  it('without a reachable API it still tells the story, says it did not compare, and exits 1 (a check must not pass unchecked)', async () => {
    const run = await runCli('audit', reopened.alias, '--url', 'http://127.0.0.1:9');

    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/projection: not compared \(cannot reach the history API/);
    expect(run.stderr).toMatch(/^alertbus audit: the projection was not compared: cannot reach the history API/);
    // Only the topics, asked for: nothing to compare, nothing failed.
    expect((await runCli('audit', reopened.alias, '--no-compare')).exitCode).toBe(0);
  });
});

describe('alertbus replay', () => {
  it('prints every record of the window with offset and key, decoded, the invalid one listed with its reason', async () => {
    const from = '2025-03-01T08:20:00.000Z';
    const to = '2025-03-01T09:00:00.000Z';
    const run = await runCli('replay', '--topic', 'incidents.v1', '--from', from, '--to', to, '--json');
    expect(run.exitCode).toBe(0);
    const body = JSON.parse(run.stdout);

    const expected = stream.events
      .filter((e) => e.recordedAt >= from && e.recordedAt < to && TOPICS.incidents.endsWith(`${e.type.startsWith('Incident') || e.type === 'EventSuppressed' ? 'incidents.v1' : '-'}`))
      .map((e) => e.id);
    const records = body.records as Array<{ valid: boolean; event: { id: string } | null; error: string | null; offset: string; key: string; partition: number }>;
    expect(expected.length).toBeGreaterThan(5);
    expect(records.filter((r) => r.valid).map((r) => r.event!.id).sort()).toEqual(expected.sort());
    for (const r of records) expect(r).toMatchObject({ partition: expect.any(Number), offset: expect.stringMatching(/^\d+$/), key: expect.any(String) });

    const late = JSON.parse((await runCli('replay', '--topic', 'incidents.v1', '--from', '2025-03-01T22:00:00Z', '--to', '2025-03-02T00:00:00Z', '--json')).stdout);
    expect(late.records).toEqual([
      expect.objectContaining({
        valid: false,
        event: null,
        key: reopened.alias,
        error: expect.stringContaining('envelope invalid'),
        offset: expect.stringMatching(/^\d+$/),
        timestamp: '2025-03-01T23:00:00.000Z',
      }),
    ]);
  });

  it('prints a table by default and refuses a bad window or topic with a clear message', async () => {
    const table = await runCli('replay', '--topic', 'incidents', '--from', '2025-03-01T08:00:00Z', '--to', '2025-03-01T08:10:00Z');
    expect(table.stdout).toMatch(/^timestamp\s+partition\s+offset\s+key\s+type/m);
    expect(table.stdout).toMatch(/\d+ records, \d+ valid, 0 failing their schema/);

    expect((await runCli('replay', '--topic', 'nope.v1', '--from', '2025-03-01T08:00:00Z')).stderr).toContain('unknown topic "nope.v1"');
    expect((await runCli('replay', '--topic', 'incidents.v1', '--from', 'yesterday')).stderr).toContain('--from must be an ISO 8601 time');
    expect((await runCli('replay', '--topic', 'incidents.v1', '--from', '2025-03-02T00:00:00Z', '--to', '2025-03-01T00:00:00Z')).stderr).toContain('--to must be after --from');
  });
});
