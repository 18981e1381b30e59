/**
 * An alert whose text ingest cut: the history keeps what ingest said it cut, and `alertbus incidents show` says so
 * (which texts, how many characters), so nobody takes a text ending in "…[cut: N characters]" for the whole of it.
 */
import { inTransaction, type Pool } from '@alertbus/common';
import { applyProjection, project } from '@alertbus/projection';
import { INCIDENT_ID, opened, received } from '@alertbus/projection/src/testdata/events';
import { topicOf, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { runCli } from '../../../../test/support/cli';
import { startTestHistoryApp, stopTestHistoryApp, type TestHistoryApp } from '../test-support/history-app';

let pool: Pool;
let app: TestHistoryApp['app'];
let url: string;

/** The alert as ingest records one it cut: its description ends with the mark, `cut` lists it. */
function receivedCut(): Envelope<'AlertReceived'> {
  const e = received();
  const description = `${'error rate above 5% on api; '.repeat(535)}`.slice(0, 14_975) + '…[cut: 12,345 characters]';
  return { ...e, data: { ...e.data, description, cut: [{ field: 'description', characters: 12_345 }, { field: 'labels.service', characters: 7 }], raw: e.data.raw } };
}

async function load(pool: Pool, events: readonly AnyEnvelope[]): Promise<void> {
  await inTransaction(pool, async (client) => {
    for (const [offset, e] of events.entries()) await applyProjection(client, project(e, { topic: topicOf(e.type), partition: 0, offset: String(offset) }));
  });
}

beforeAll(async () => {
  ({ pool, app, url } = await startTestHistoryApp(new Date('2025-03-03T00:00:00.000Z'), (p) => load(p, [receivedCut(), opened()])));
});

afterAll(() => stopTestHistoryApp({ app, pool }));

test('the timeline keeps what ingest cut', async () => {
  const res = await app.inject({ method: 'GET', url: `/api/incidents/${INCIDENT_ID}` });
  const alert = res.json().timeline.find((e: { type: string }) => e.type === 'AlertReceived');
  expect(alert.data.cut).toEqual([{ field: 'description', characters: 12_345 }, { field: 'labels.service', characters: 7 }]);
});

test('alertbus incidents show says which texts were cut and how many characters each lost', async () => {
  const run = await runCli('incidents', 'show', INCIDENT_ID, '--url', url);
  expect(run.stderr).toBe('');
  expect(run.exitCode).toBe(0);
  expect(run.stdout).toContain('  text cut by ingest: description 12,345 characters, labels.service 7 characters\n');
  // The text as alertbus kept it, which the Slack message points to.
  expect(run.stdout).toContain(`  description:\n    ${'error rate above 5% on api; '.repeat(3)}`);
  expect(run.stdout).toContain('…[cut: 12,345 characters]\n');
  // The alert's row in the timeline says it too.
  expect(run.stdout).toMatch(/AlertReceived .* — cut by ingest: description 12,345 characters/);
});
