/**
 * Records already on the topics from before ingest cleaned text at its edge can hold NUL and lone surrogates,
 * which Postgres refuses in jsonb ("unsupported Unicode escape sequence", "invalid input syntax for type json")
 * and in text. The projection stores them cleaned instead of setting them aside for their text.
 */
import { createPool, ensureDatabase, loadMigrations, migrate, type Pool } from '@alertbus/common';
import { topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { dropTestDatabase } from '../../../test/support/db';
import { MIGRATIONS_DIR } from './migrations';
import { applyProjection } from './apply';
import { project } from './project';
import { INCIDENT_ID, opened, received } from './testdata/events';

let pool: Pool;

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  pool = createPool(process.env.DATABASE_URL!);
  await migrate(pool, 'history', loadMigrations(MIGRATIONS_DIR));
});

afterAll(async () => {
  await pool.end();
  await dropTestDatabase();
});

async function apply(events: AnyEnvelope[]): Promise<string[]> {
  const client = await pool.connect();
  try {
    const out: string[] = [];
    for (const [i, event] of events.entries()) {
      out.push(String(await applyProjection(client, project(event, { topic: topicOf(event.type), partition: 0, offset: String(i) }))));
    }
    return out;
  } finally {
    client.release();
  }
}

/** As an old ingest wrote them: NUL and lone surrogates in values and keys, deep in raw too. */
const dirtyInput = (() => {
  const r = received('input-dirty');
  return {
    ...r,
    data: {
      ...r.data,
      title: 'disk\u0000 full',
      labels: { 'host\u0000': 'db\uD8001' },
      raw: { group: { commonAnnotations: { summary: 'a\u0000b\uDC00' } }, labels: { alertname: 'x\u0007' } },
    },
  } as AnyEnvelope;
})();

const dirtyDecision = {
  ...opened(),
  data: { ...opened().data, inputId: 'input-dirty', title: 'disk\u0000 full \uD83D', description: 'nul\u0000', labels: { 'te\u0000am': 'db\uDFFF' } },
} as AnyEnvelope;

test('as written before ingest cleaned, Postgres refuses these values: both errors the projection used to dead-letter', async () => {
  const nul = JSON.stringify(dirtyInput.data);
  const surrogate = JSON.stringify({ text: 'x\uD800' });
  await expect(pool.query('SELECT $1::jsonb', [nul])).rejects.toThrow('unsupported Unicode escape sequence');
  await expect(pool.query('SELECT $1::jsonb', [surrogate])).rejects.toThrow('invalid input syntax for type json');
});

test('an input and a decision holding NUL and lone surrogates are stored, cleaned, in the timeline and the incident', async () => {
  expect(await apply([dirtyInput, dirtyDecision])).toEqual(['applied', 'applied']);

  const { rows: timeline } = await pool.query(
    `SELECT event_id, data FROM incident_timeline WHERE event_id = ANY($1) ORDER BY event_id`,
    [[dirtyInput.id, dirtyDecision.id]],
  );
  const byId = new Map(timeline.map((r: { event_id: string; data: Record<string, unknown> }) => [r.event_id, r.data]));
  expect(byId.get(dirtyInput.id)).toMatchObject({
    title: 'disk full',
    labels: { host: 'db\uFFFD1' },
    raw: { group: { commonAnnotations: { summary: 'ab\uFFFD' } }, labels: { alertname: 'x' } },
  });
  expect(byId.get(dirtyDecision.id)).toMatchObject({ title: 'disk full \uFFFD', description: 'nul' });

  const { rows } = await pool.query('SELECT title, description, labels FROM incidents WHERE incident_id = $1', [INCIDENT_ID]);
  expect(rows).toEqual([{ title: 'disk full \uFFFD', description: 'nul', labels: { team: 'db\uFFFD' } }]);
});

test('clean events are projected exactly as before (cleaning changes nothing that needs no cleaning)', () => {
  const event = opened();
  const at = { topic: topicOf(event.type), partition: 0, offset: '7' };
  expect(project(event, at).timeline.data).toBe(event.data);
});
