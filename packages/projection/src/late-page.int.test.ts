/**
 * A repeat that pages an incident opened without a page (its alert now routes to a pager: its severity rose) gives the
 * incident its priority in Postgres, one event at a time and in a batch alike.
 */
import { topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { applyProjection } from './apply';
import { applyProjections } from './apply-many';
import { project } from './project';
import { historyDatabase } from './testdata/database';
import { INCIDENT_ID, opened, repeated } from './testdata/events';

const db = historyDatabase();

const unpaged = (id: string): AnyEnvelope => {
  const o = opened({ incidentId: id });
  const { pager: _pager, ...data } = o.data;
  return { ...o, id: `${o.id}-${id}`, data } as AnyEnvelope;
};
const paging = (id: string, n: number): AnyEnvelope => {
  const r = repeated(2, 5);
  return { ...r, id: `${r.id}-${id}-${n}`, data: { ...r.data, incidentId: id, notified: true, pager: { priority: 'P1' } } } as AnyEnvelope;
};
const projected = (events: AnyEnvelope[], from: number) => events.map((e, i) => project(e, { topic: topicOf(e.type), partition: 0, offset: String(from + i) }));
const priorityOf = async (id: string) => (await db.pool.query('SELECT pager_priority FROM incidents WHERE incident_id = $1', [id])).rows[0]?.pager_priority;

test('one event at a time', async () => {
  const client = await db.pool.connect();
  try {
    for (const p of projected([unpaged(INCIDENT_ID), paging(INCIDENT_ID, 1)], 0)) await applyProjection(client, p);
  } finally {
    client.release();
  }
  expect(await priorityOf(INCIDENT_ID)).toBe('P1');
});

test('in a batch', async () => {
  const id = '00000000-0000-4000-8000-00000000beef';
  const client = await db.pool.connect();
  try {
    await applyProjections(client, projected([unpaged(id), paging(id, 2)], 10));
  } finally {
    client.release();
  }
  expect(await priorityOf(id)).toBe('P1');
});
