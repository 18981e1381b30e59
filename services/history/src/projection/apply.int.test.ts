/**
 * apply.ts and apply-many.ts against real Postgres: the SQL gives the same rows as the in-memory specification,
 * in every order, whether events are applied one at a time or a topic's consecutive events as one batch.
 */
import type { PoolClient } from 'pg';
import { createPool, ensureDatabase, inTransaction, loadMigrations, migrate, type Pool } from '@alertbus/common';
import { deriveId, topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { dropTestDatabase } from '../../../../test/support/db';
import { getDeliveries, getIncident, getTimeline } from '../api/queries';
import {
  AdoptableDeliveries,
  applyProjection,
  applyProjections,
  applyRecordBatch,
  applyRecordBatches,
  checksumIn,
  MIGRATIONS_DIR,
  project,
  ProjectionAheadOfLog,
  readNextOffset,
  type Projection,
} from '@alertbus/projection';
import { buildStream } from '../testdata/stream';
import { waitFor } from '../../../../test/support/wait';
import { getSilence } from '../silences/queries';
import {
  INCIDENT_ID,
  SILENCE_ID,
  acknowledged,
  createPage,
  opened,
  pagerCreated,
  postRoot,
  received,
  repeated,
  resolved,
  silenceCreated,
  silenceExpired,
  slackPosted,
  suppressed,
  unacknowledged,
} from '@alertbus/projection/src/testdata/events';
import { replay } from '@alertbus/projection/src/testdata/projection-spec';
import { interleavings } from '@alertbus/projection/src/testdata/interleavings';
import { isCreatedPagerAlert, isRootPost } from '@alertbus/projection/src/delivery-events';
import type { ApplyOutcome } from '@alertbus/projection';

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

type Mode = 'one by one' | 'batched';

/** The events with the positions replay() assigns (partition 0, offsets counting per topic). */
function positioned(events: readonly AnyEnvelope[]): Projection[] {
  const offsets = new Map<string, number>();
  return events.map((event) => {
    const topic = topicOf(event.type);
    const offset = offsets.get(topic) ?? 0;
    offsets.set(topic, offset + 1);
    return project(event, { topic, partition: 0, offset: String(offset) });
  });
}

/**
 * Applies the projections in order: one statement set per event, or each run of consecutive events of one
 * topic (what one partition's batch holds) with applyProjections, cut after `batchSize` events.
 */
async function applyProjected(client: PoolClient, projections: readonly Projection[], mode: Mode, batchSize = Infinity): Promise<ApplyOutcome[]> {
  const outcomes: ApplyOutcome[] = [];
  if (mode === 'one by one') {
    for (const p of projections) outcomes.push(await applyProjection(client, p));
    return outcomes;
  }
  let run: Projection[] = [];
  const flush = async () => {
    outcomes.push(...(await applyProjections(client, run)));
    run = [];
  };
  for (const p of projections) {
    if (run.length > 0 && (run[0]!.timeline.topic !== p.timeline.topic || run.length >= batchSize)) await flush();
    run.push(p);
  }
  if (run.length > 0) await flush();
  return outcomes;
}

/** Applies events in one transaction, on emptied tables. */
let mode: Mode = 'one by one';
async function applyAll(events: AnyEnvelope[]): Promise<ApplyOutcome[]> {
  return inTransaction(pool, async (client) => {
    await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
    return applyProjected(client, positioned(events), mode);
  });
}

describe('a batch in a few statements (apply-many.ts)', () => {
  it('gives the same tables as applying its events one by one, for a generated stream in batches of every size', async () => {
    const events = buildStream({ aliases: 12, seed: 'apply-many' }).events;
    // Topic by topic in rounds, as a consumer reads partitions: decisions before or after their deliveries.
    const byTopic = new Map<string, AnyEnvelope[]>();
    for (const e of events) byTopic.set(topicOf(e.type), [...(byTopic.get(topicOf(e.type)) ?? []), e]);
    const orders = [events, [...byTopic.values()].flat(), [...byTopic.values()].reverse().flat()];
    for (const order of orders) {
      const projections = positioned(order);
      const sums: string[] = [];
      for (const [m, size] of [['one by one', 1], ['batched', 7], ['batched', 64], ['batched', Infinity]] as const) {
        sums.push(
          await inTransaction(pool, async (client) => {
            await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
            const outcomes = await applyProjected(client, projections, m, size);
            expect(outcomes.filter((o) => o === 'applied')).toHaveLength(projections.length);
            // Redelivered: every event a duplicate, nothing changes.
            expect(new Set(await applyProjected(client, projections, m, size))).toEqual(new Set(['duplicate']));
            // The sender's times are in the rows compared: the stream's Alertmanager and Grafana alerts carry them.
            const { rows } = await client.query<{ started: number; ended: number }>(
              'SELECT count(started_at)::int AS started, count(ended_at)::int AS ended FROM incidents',
            );
            expect(rows[0]!.started).toBeGreaterThan(0);
            expect(rows[0]!.ended).toBeGreaterThan(0);
            return (await checksumIn(client, 'public')).total;
          }),
        );
      }
      expect(new Set(sums).size).toBe(1);
    }
  });
});

/**
 * The rebuild's replay is the only writer of its tables and notes the deliveries it writes: a new incident's deliveries
 * are looked up only when it has some to adopt (a root post or a created page), and the rows are the same.
 */
describe('a writer that notes the deliveries it writes (AdoptableDeliveries)', () => {
  /** Scans of the deliveries table in this transaction (each look-up of one incident's deliveries is one). */
  const deliveryScans = async (client: PoolClient) =>
    Number(
      (
        await client.query<{ n: string }>(
          `SELECT seq_scan + coalesce(idx_scan, 0) AS n FROM pg_stat_xact_user_tables WHERE relname = 'deliveries' AND schemaname = 'public'`,
        )
      ).rows[0]!.n,
    );

  it('looks up the deliveries only of new incidents that have a root post or page stored, and gives the same tables', async () => {
    const stream = buildStream({ aliases: 12, seed: 'adoptable' });
    const incidents = new Set(stream.aliases.flatMap((a) => a.incidentIds)).size;
    const byTopic = new Map<string, AnyEnvelope[]>();
    for (const e of stream.events) byTopic.set(topicOf(e.type), [...(byTopic.get(topicOf(e.type)) ?? []), e]);
    const deliveriesTopic = topicOf('SlackMessagePosted');
    const deliveries = byTopic.get(deliveriesTopic)!;
    const others = [...byTopic].filter(([topic]) => topic !== deliveriesTopic).flatMap(([, events]) => events);
    // Half the deliveries read before the decisions: the incidents with a root post or page among them are the only
    // ones with anything to adopt when opened.
    const early = deliveries.slice(0, deliveries.length / 2);
    const adopting = new Set(
      early
        .map((e) => project(e, { topic: deliveriesTopic, partition: 0, offset: '0' }).delivery)
        .filter((d) => d !== null && d.incidentId !== null && (isRootPost(d) || isCreatedPagerAlert(d)))
        .map((d) => d!.incidentId),
    ).size;
    expect(adopting).toBeGreaterThan(0);
    expect(adopting).toBeLessThan(incidents);

    const run = (events: AnyEnvelope[], adoptable: AdoptableDeliveries | undefined) =>
      inTransaction(pool, async (client) => {
        await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences, notifications');
        const before = await deliveryScans(client);
        for (const batch of chunked(positioned(events), 50)) await applyProjections(client, batch, { adoptable });
        return { scans: (await deliveryScans(client)) - before, total: (await checksumIn(client, 'public')).total };
      });
    // Decisions before their deliveries (the live projector's usual case), then half the deliveries first.
    const late = deliveries.slice(early.length);
    for (const [events, noted] of [[[...others, ...deliveries], 0], [[...early, ...others, ...late], adopting]] as const) {
      const plain = await run([...events], undefined);
      const tracked = await run([...events], new AdoptableDeliveries());
      expect(plain.scans).toBe(incidents);
      expect(tracked.scans).toBe(noted);
      expect(tracked.total).toBe(plain.total);
    }
  });
});

function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

describe('an incident opened and changed in the same batch', () => {
  /** Row versions of incidents written by `fn` (its own transaction's updates, as in the HOT test below). */
  async function incidentUpdates(client: PoolClient, fn: () => Promise<unknown>): Promise<number> {
    const read = async () =>
      Number((await client.query<{ upd: string }>(`SELECT n_tup_upd AS upd FROM pg_stat_xact_user_tables WHERE relname = 'incidents' AND schemaname = 'public'`)).rows[0]!.upd);
    const before = await read();
    await fn();
    return (await read()) - before;
  }

  it('is inserted with its earlier deliveries and later changes, in one row version, and gives the rows the specification gives', async () => {
    // The root post and the page read before the decision that opened the incident (another topic).
    const events = [slackPosted('root', 0), pagerCreated(0), opened(), repeated(2, 5), resolved(20, 2)];
    const updates = await inTransaction(pool, async (client) => {
      await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
      return incidentUpdates(client, () => applyProjections(client, positioned(events)));
    });

    expect(await getIncident(pool, INCIDENT_ID)).toEqual(replay(...events).store.incident(INCIDENT_ID));
    expect(await getIncident(pool, INCIDENT_ID)).toMatchObject({ status: 'resolved', count: 2, slackRootTs: '1740823200.000100', pagerAlertId: 'a1b2c3d4-alert' });
    expect(updates).toBe(0);
  });

  it('when the row is stored already (an open under another event id), the changes after it still apply', async () => {
    const again = { ...opened({ at: 1 }), id: deriveId('opened', 'again') } as AnyEnvelope;
    // Another incident opened in the same batch: inserted, beside the one stored already.
    const other = opened({ incidentId: deriveId('incident', 'other') });
    const events = [opened(), again, other, repeated(2, 5), resolved(20, 2)];
    const projections = positioned(events);
    await inTransaction(pool, async (client) => {
      await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
      await applyProjections(client, projections.slice(0, 1));
      expect(await applyProjections(client, projections.slice(1))).toEqual(['applied', 'applied', 'applied', 'applied']);
    });
    expect(await getIncident(pool, other.data.incidentId)).toEqual(replay(...events).store.incident(other.data.incidentId));

    expect(await getIncident(pool, INCIDENT_ID)).toEqual(replay(...events).store.incident(INCIDENT_ID));
    expect(await getIncident(pool, INCIDENT_ID)).toMatchObject({ status: 'resolved', count: 2 });
  });
});

describe("the sender's times (started_at, ended_at)", () => {
  const cases: Array<[string, AnyEnvelope[], { startedAt: string | null; endedAt: string | null }]> = [
    [
      'started 20 minutes before it was opened, ended 5 minutes before its resolve arrived',
      [opened({ startsAt: '2025-03-01T09:40:00.612666101Z' }), repeated(2, 5), resolved(20, 2, { endsAt: '2025-03-01T10:15:00Z' })],
      { startedAt: '2025-03-01T09:40:00.612Z', endedAt: '2025-03-01T10:15:00.000Z' },
    ],
    [
      'an endsAt before the startsAt within the clock skew: raised to the start',
      [opened({ startsAt: '2025-03-01T09:40:00Z' }), resolved(20, 1, { endsAt: '2025-03-01T09:37:00Z' })],
      { startedAt: '2025-03-01T09:40:00.000Z', endedAt: '2025-03-01T09:40:00.000Z' },
    ],
    [
      'an endsAt before the startsAt by more than the skew: no ended_at',
      [opened({ startsAt: '2025-03-01T09:40:00Z' }), resolved(20, 1, { endsAt: '2025-03-01T09:30:00Z' })],
      { startedAt: '2025-03-01T09:40:00.000Z', endedAt: null },
    ],
    [
      'no startsAt, an endsAt before the opening within the skew: raised to opened_at',
      [opened(), resolved(20, 1, { endsAt: '2025-03-01T09:56:00Z' })],
      { startedAt: null, endedAt: '2025-03-01T10:00:00.000Z' },
    ],
    [
      'no startsAt, an endsAt before the opening by more than the skew (a payload sent again): no ended_at',
      [opened(), resolved(20, 1, { endsAt: '2025-03-01T09:30:00Z' })],
      { startedAt: null, endedAt: null },
    ],
    ['resolved by a person: no ended_at', [opened({ startsAt: '2025-03-01T09:40:00Z' }), resolved(20, 1, { by: 'alice' })], { startedAt: '2025-03-01T09:40:00.000Z', endedAt: null }],
  ];

  it.each(cases)('%s: the same row one by one, in one batch, and in a batch after the open, as specified', async (_name, events, expected) => {
    const projections = positioned(events);
    const split: Array<[Mode, number]> = [['one by one', 1], ['batched', Infinity], ['batched', 1]];
    for (const [m, size] of split) {
      await inTransaction(pool, async (client) => {
        await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
        await applyProjected(client, projections, m, size);
      });
      expect(await getIncident(pool, INCIDENT_ID)).toEqual(replay(...events).store.incident(INCIDENT_ID));
      expect(await getIncident(pool, INCIDENT_ID)).toMatchObject(expected);
    }
  });
});

describe('migration 012 on rows projected before it', () => {
  it("gives them the sender's times a replay gives: the live tables stay equal to a rebuild", async () => {
    const other = (n: number, startsAt: string, endsAt: string): AnyEnvelope[] => {
      const incidentId = deriveId('incident', 'migration', n);
      const open = opened({ incidentId, startsAt });
      const done = resolved(20, 1, { endsAt });
      return [open, { ...done, id: deriveId(done.id, n), data: { ...done.data, incidentId } } as AnyEnvelope];
    };
    const events = [
      ...buildStream({ aliases: 12, seed: 'migration-012' }).events,
      ...other(1, '2025-03-01T09:40:00.612666101Z', '2025-03-01T10:15:00.999999Z'), // Alertmanager's nanoseconds
      ...other(2, '2025-03-01T10:40:00+01:00', '2025-03-01T10:22:00Z'), // an offset; an endsAt within the skew
      ...other(3, '2025-03-01T10:03:00Z', '2025-03-01T10:30:00Z'), // a start within the skew; an end beyond it
      ...other(4, '2025-03-01T10:10:00Z', '2025-03-01T09:00:00Z'), // a start beyond the skew; an end before the opening
      ...other(5, '2025-02-20T10:00:00Z', '2025-03-01T10:10:00Z'), // a start more than 7 days before
    ];
    const sqlOf = (version: number) => loadMigrations(MIGRATIONS_DIR).find((m) => m.version === version)!.sql;
    await inTransaction(pool, async (client) => {
      await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
      await applyProjected(client, positioned(events), 'batched');
      const replayed = await checksumIn(client, 'public');
      const { rows } = await client.query<{ started: number; ended: number }>('SELECT count(started_at)::int AS started, count(ended_at)::int AS ended FROM incidents');
      expect(rows[0]!.started).toBeGreaterThan(5);
      expect(rows[0]!.ended).toBeGreaterThan(5);

      // The rows as they were before 012 (and so before 014's and 017's columns), then 012 itself, and those after it.
      await client.query(
        'ALTER TABLE incidents DROP COLUMN started_at, DROP COLUMN ended_at, DROP COLUMN acknowledged_by_name, DROP COLUMN resolved_by_name, ' +
          'DROP COLUMN acknowledged_in, DROP COLUMN resolved_in',
      );
      await client.query(sqlOf(12));
      for (const later of [14, 15, 16, 17]) await client.query(sqlOf(later));

      // The same rows, the two columns again last.
      expect(await checksumIn(client, 'public')).toEqual(replayed);
    });
  });
});

describe('migration 014 on rows projected before it', () => {
  it('gives them the names of who acknowledged and resolved that a replay gives: the live tables stay equal to a rebuild', async () => {
    const person = (n: number, ack: { by: string; byName?: string }, unack: boolean, done: { by?: string; byName?: string }): AnyEnvelope[] => {
      const incidentId = deriveId('incident', 'migration-014', n);
      const own = <E extends AnyEnvelope>(e: E) => ({ ...e, id: deriveId(e.id, n), data: { ...e.data, incidentId } }) as AnyEnvelope;
      return [
        opened({ incidentId }),
        own(acknowledged(3, ack.by, ack.byName)),
        ...(unack ? [own(unacknowledged(5))] : []),
        own(resolved(20, 1, done)),
      ];
    };
    const events = [
      ...buildStream({ aliases: 12, seed: 'migration-014' }).events,
      ...person(1, { by: 'U012ABCDEF', byName: 'Alice Martin' }, false, { by: 'U012ABCDEF', byName: 'Alice Martin' }),
      ...person(2, { by: 'U0BOB', byName: 'bob' }, true, { by: 'jane.doe@example.com', byName: 'jane.doe@example.com' }), // taken back in the pager
      ...person(3, { by: 'U0CAROL' }, false, {}), // events from before byName; resolved at the source
    ];
    const sqlOf = (version: number) => loadMigrations(MIGRATIONS_DIR).find((m) => m.version === version)!.sql;
    await inTransaction(pool, async (client) => {
      await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
      await applyProjected(client, positioned(events), 'batched');
      const replayed = await checksumIn(client, 'public');
      const { rows } = await client.query(
        `SELECT acknowledged_by, acknowledged_by_name, resolved_by, resolved_by_name FROM incidents WHERE incident_id = ANY($1) ORDER BY incident_id`,
        [[1, 2, 3].map((n) => deriveId('incident', 'migration-014', n))],
      );
      expect(new Set(rows.map((r) => JSON.stringify(r)))).toEqual(
        new Set([
          { acknowledged_by: 'U012ABCDEF', acknowledged_by_name: 'Alice Martin', resolved_by: 'U012ABCDEF', resolved_by_name: 'Alice Martin' },
          { acknowledged_by: null, acknowledged_by_name: null, resolved_by: 'jane.doe@example.com', resolved_by_name: 'jane.doe@example.com' },
          { acknowledged_by: 'U0CAROL', acknowledged_by_name: null, resolved_by: null, resolved_by_name: null },
        ].map((r) => JSON.stringify(r))),
      );

      // The rows as they were before 014 (and so before 017's columns), then 014 itself, and 017.
      await client.query('ALTER TABLE incidents DROP COLUMN acknowledged_by_name, DROP COLUMN resolved_by_name, DROP COLUMN acknowledged_in, DROP COLUMN resolved_in');
      await client.query(sqlOf(14));
      await client.query(sqlOf(17));

      // The same rows, the two columns again last.
      expect(await checksumIn(client, 'public')).toEqual(replayed);
    });
  });
});

describe('migration 017 on rows projected before it', () => {
  it('gives them the pager each was acknowledged and resolved in that a replay gives: the live tables stay equal to a rebuild', async () => {
    const person = (n: number, ack: { by: string; in?: 'opsgenie' | 'jsm' }, unack: boolean, done: { by?: string; provider?: 'opsgenie' | 'jsm' }): AnyEnvelope[] => {
      const incidentId = deriveId('incident', 'migration-017', n);
      const own = <E extends AnyEnvelope>(e: E) => ({ ...e, id: deriveId(e.id, n), data: { ...e.data, incidentId } }) as AnyEnvelope;
      return [opened({ incidentId }), own(acknowledged(3, ack.by, ack.by, ack.in)), ...(unack ? [own(unacknowledged(5))] : []), own(resolved(20, 1, done))];
    };
    const events = [
      ...buildStream({ aliases: 12, seed: 'migration-017' }).events,
      ...person(1, { by: 'U0CEO1234', in: 'opsgenie' }, false, { by: 'jane', provider: 'jsm' }), // a pager user named like a Slack id
      ...person(2, { by: 'U0BOB', in: 'opsgenie' }, true, { by: 'U0ALICE' }), // taken back in the pager; resolved in Slack
      ...person(3, { by: 'U0CAROL' }, false, {}), // acknowledged in Slack; resolved at the source
    ];
    const sqlOf = (version: number) => loadMigrations(MIGRATIONS_DIR).find((m) => m.version === version)!.sql;
    await inTransaction(pool, async (client) => {
      await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
      await applyProjected(client, positioned(events), 'batched');
      const replayed = await checksumIn(client, 'public');
      const { rows } = await client.query(
        `SELECT acknowledged_by, acknowledged_in, resolved_by, resolved_in FROM incidents WHERE incident_id = ANY($1) ORDER BY incident_id`,
        [[1, 2, 3].map((n) => deriveId('incident', 'migration-017', n))],
      );
      expect(new Set(rows.map((r) => JSON.stringify(r)))).toEqual(
        new Set([
          { acknowledged_by: 'U0CEO1234', acknowledged_in: 'opsgenie', resolved_by: 'jane', resolved_in: 'jsm' },
          { acknowledged_by: null, acknowledged_in: null, resolved_by: 'U0ALICE', resolved_in: null },
          { acknowledged_by: 'U0CAROL', acknowledged_in: null, resolved_by: null, resolved_in: null },
        ].map((r) => JSON.stringify(r))),
      );

      // The rows as they were before 017, then 017 itself.
      await client.query('ALTER TABLE incidents DROP COLUMN acknowledged_in, DROP COLUMN resolved_in');
      await client.query(sqlOf(17));

      // The same rows, the two columns again last.
      expect(await checksumIn(client, 'public')).toEqual(replayed);
    });
  });
});

describe('an incident opened again after a person resolved the previous one, the alert still firing since 09:40', () => {
  const SECOND = deriveId('incident', 'alertmanager:3f2a9c1d0b7e4a55', 2);
  const THIRD = deriveId('incident', 'alertmanager:3f2a9c1d0b7e4a55', 3);
  const FIRST_START = '2025-03-01T09:40:00Z';
  /** The next occurrence, opened at 10:at with the alert's first startsAt; resolved by a person at 10:resolvedAt. */
  const again = (incidentId: string, occurrence: number, previous: string, at: number, resolvedAt?: number): AnyEnvelope[] => {
    const open = opened({ at, incidentId, occurrence, previous, startsAt: FIRST_START });
    if (resolvedAt === undefined) return [open];
    const done = resolved(resolvedAt, 1, { by: 'alice' });
    return [open, { ...done, id: deriveId(done.id, incidentId), data: { ...done.data, incidentId, occurrence } } as AnyEnvelope];
  };
  const events: AnyEnvelope[] = [
    opened({ startsAt: FIRST_START }),
    resolved(20, 1, { by: 'alice' }),
    ...again(SECOND, 2, INCIDENT_ID, 30, 40),
    ...again(THIRD, 3, SECOND, 50),
  ];
  const startedOf = async (id: string) => (await getIncident(pool, id))?.startedAt;

  it('starts at that resolve, one by one, in one batch and in batches of every size, as specified', async () => {
    const spec = replay(...events).store;
    expect([spec.incident(SECOND)?.startedAt, spec.incident(THIRD)?.startedAt]).toEqual(['2025-03-01T10:20:00.000Z', '2025-03-01T10:40:00.000Z']);
    for (const [m, size] of [['one by one', 1], ['batched', Infinity], ['batched', 1], ['batched', 2], ['batched', 3]] as const) {
      await inTransaction(pool, async (client) => {
        await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
        await applyProjected(client, positioned(events), m, size);
      });
      for (const id of [INCIDENT_ID, SECOND, THIRD]) expect([m, size, await getIncident(pool, id)]).toEqual([m, size, spec.incident(id)]);
      expect(await startedOf(SECOND)).toBe('2025-03-01T10:20:00.000Z');
    }
  });

  it("a resolve in the same batch ends the raised start's incident as one by one does: its sender's end is read against the raised start", async () => {
    // Opened at 10:12 with a startsAt of 10:06, raised to the previous resolve (10:10); its sender ended it at 10:04,
    // more than the skew (5 minutes) before that start: not believable, so no end, whether or not the open is in the
    // same batch (read against the start before it was raised, the end was taken as 10:06, then raised to 10:10).
    const open = opened({ at: 12, incidentId: SECOND, occurrence: 2, previous: INCIDENT_ID, startsAt: '2025-03-01T10:06:00Z' });
    const done = resolved(13, 1, { endsAt: '2025-03-01T10:04:00Z' });
    const stream: AnyEnvelope[] = [
      opened({ startsAt: FIRST_START }),
      resolved(10, 1, { by: 'alice' }),
      open,
      { ...done, id: deriveId(done.id, SECOND), data: { ...done.data, incidentId: SECOND, occurrence: 2 } } as AnyEnvelope,
    ];
    const spec = replay(...stream).store;
    expect(spec.incident(SECOND)).toMatchObject({ startedAt: '2025-03-01T10:10:00.000Z', endedAt: null });
    for (const [m, size] of [['one by one', 1], ['batched', Infinity], ['batched', 1], ['batched', 2], ['batched', 3]] as const) {
      await inTransaction(pool, async (client) => {
        await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
        await applyProjected(client, positioned(stream), m, size);
      });
      for (const id of [INCIDENT_ID, SECOND]) expect([m, size, await getIncident(pool, id)]).toEqual([m, size, spec.incident(id)]);
    }
  });

  it('migration 015 gives the rows projected before it the same starts: the live tables stay equal to a rebuild', async () => {
    const [sql] = loadMigrations(MIGRATIONS_DIR).filter((m) => m.version === 15).map((m) => m.sql);
    await inTransaction(pool, async (client) => {
      await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
      await applyProjected(client, positioned([...buildStream({ aliases: 12, seed: 'migration-015' }).events, ...events]), 'batched');
      const replayed = await checksumIn(client, 'public');
      // As the projection wrote them before: the alert's first startsAt.
      await client.query('UPDATE incidents SET started_at = $1::timestamptz WHERE incident_id = ANY($2::text[])', [FIRST_START, [SECOND, THIRD]]);
      expect(await checksumIn(client, 'public')).not.toEqual(replayed);
      await client.query(sql!);
      expect(await checksumIn(client, 'public')).toEqual(replayed);
    });
  });
});

describe.each(['one by one', 'batched'] as const)('apply (Postgres), %s', (m) => {
  beforeAll(() => {
    mode = m;
  });

  it('every interleaving of incidents and deliveries gives the rows the specification gives', async () => {
    const incidents: AnyEnvelope[] = [opened(), repeated(2, 5), suppressed(7, INCIDENT_ID), resolved(20, 2)];
    const deliveries: AnyEnvelope[] = [slackPosted('root', 0), pagerCreated(0), slackPosted('root', 6, { ts: '1740823999.1', channel: 'C9' })];
    for (const order of interleavings(incidents, deliveries)) {
      await applyAll(order);
      const expected = replay(...order).store;

      expect(await getIncident(pool, INCIDENT_ID)).toEqual(expected.incident(INCIDENT_ID));
      expect(await getTimeline(pool, INCIDENT_ID)).toEqual(expected.timelineOf(INCIDENT_ID));
      expect(await getDeliveries(pool, INCIDENT_ID)).toEqual(expected.deliveriesOf(INCIDENT_ID));
    }
    expect(await getIncident(pool, INCIDENT_ID)).toMatchObject({
      status: 'resolved',
      count: 2,
      slackChannel: 'C0123ALERTS',
      slackRootTs: '1740823200.000100',
      pagerAlertId: 'a1b2c3d4-alert',
    });
  });

  it('inputs are linked to their incident by the decisions that name them, in every order, as specified', async () => {
    const resolvedLater = { ...resolved(20), data: { ...resolved(20).data, inputId: 'input-20' } } as AnyEnvelope;
    const inputs: AnyEnvelope[] = [received(), received('input-20', 20, 'resolved')];
    const decisions: AnyEnvelope[] = [opened(), postRoot(), createPage(), resolvedLater];
    for (const order of interleavings(inputs, decisions)) {
      await applyAll(order);

      expect(await getTimeline(pool, INCIDENT_ID)).toEqual(replay(...order).store.timelineOf(INCIDENT_ID));
    }
    expect((await getTimeline(pool, INCIDENT_ID)).map((r) => r.type)).toEqual([
      'AlertReceived',
      'IncidentOpened',
      'CreatePagerAlert',
      'PostSlackMessage',
      'AlertReceived',
      'IncidentResolved',
    ]);
  });

  it('silences are stored as specified', async () => {
    const events = [silenceCreated(0), silenceExpired(10, SILENCE_ID, 'bob'), silenceExpired(12, SILENCE_ID, 'carol')];
    await applyAll(events);

    expect(await getSilence(pool, SILENCE_ID)).toEqual(replay(...events).store.silence(SILENCE_ID));
  });

  it('ended silences are pruned as specified, by the time of the silence event that comes later', async () => {
    const later = silenceCreated(0, { id: 'prune-later', endsAt: '2025-04-01T00:00:00.000Z' });
    const events = [
      silenceCreated(0, { id: 'prune-me' }),
      silenceCreated(0, { id: 'prune-keep', endsAt: '2025-03-10T00:00:00.000Z' }),
      { ...later, occurredAt: '2025-03-08T12:00:00.000Z', recordedAt: '2025-03-08T12:00:00.000Z' },
    ];
    await applyAll(events);

    const spec = replay(...events).store;
    expect(spec.silence('prune-me')).toBeUndefined();
    for (const id of ['prune-me', 'prune-keep', 'prune-later']) expect(await getSilence(pool, id)).toEqual(spec.silence(id) ?? null);
  });

  it('an event id already in the timeline is a duplicate and changes nothing', async () => {
    const outcomes = await applyAll([opened(), repeated(2, 5), slackPosted('root', 0), repeated(2, 5), slackPosted('root', 0)]);

    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'duplicate', 'duplicate']);
    expect(await getTimeline(pool, INCIDENT_ID)).toHaveLength(3);
    expect(await getDeliveries(pool, INCIDENT_ID)).toHaveLength(1);
  });

  it('values Postgres cannot store fail with a data-exception code (so the projector sets the record aside)', async () => {
    // A valid RFC 3339 time that Postgres has no year for.
    const poisoned = { ...opened(), occurredAt: '0000-01-01T00:00:00Z' } as AnyEnvelope;

    await expect(applyAll([poisoned])).rejects.toMatchObject({ code: expect.stringMatching(/^22/) });
  });
});

describe('a batch holding an event applied before, at another offset', () => {
  it('applies the others and counts it a duplicate, without setting anything aside or going record by record', async () => {
    await pool.query(`TRUNCATE incidents, incident_timeline, deliveries, silences; DELETE FROM projection_offsets WHERE consumer = 'again'`);
    const events = [received('again-1', 0), received('again-2', 1), received('again-3', 2), opened({ at: 3 })];
    const topic = topicOf(events[0]!.type);
    const records = (evs: AnyEnvelope[], from: number) =>
      evs.map((event, i) => ({ topic, partition: 0, offset: String(from + i), decoded: { ok: true as const, event } }));
    const target = { pool, consumer: 'again', onRejected: async () => undefined };
    const isolating: unknown[] = [];
    await applyRecordBatch(target, topic, 0, records(events.slice(0, 2), 0), (err) => isolating.push(err));

    // again-2 written a second time (a producer's retry), after the others.
    const result = await applyRecordBatch(target, topic, 0, records([events[2]!, events[1]!, events[3]!], 2), (err) => isolating.push(err));

    expect(isolating).toEqual([]);
    expect(result.rejected).toEqual([]);
    expect(result.duplicates).toBe(1);
    expect([...result.applied.values()].reduce((a, b) => a + b, 0)).toBe(2);
    expect(result.nextOffset).toBe('5');
    const { rows } = await pool.query<{ event_id: string; offset: string }>('SELECT event_id, "offset" FROM incident_timeline ORDER BY "offset"');
    expect(rows.map((r) => [r.event_id, Number(r.offset)])).toEqual([[events[0]!.id, 0], [events[1]!.id, 1], [events[2]!.id, 2], [events[3]!.id, 4]]);
    expect((await getIncident(pool, INCIDENT_ID))?.status).toBe('open');
  });
});

describe('two history instances projecting at once (the incidents and the deliveries partitions in different ones)', () => {
  it('an incident inserted by one and its root post and page by the other: the incident links both, whatever the interleaving', async () => {
    const consumer = 'two-instances';
    await pool.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
    await pool.query('DELETE FROM projection_offsets WHERE consumer = $1', [consumer]);
    const records = (...evs: AnyEnvelope[]) =>
      evs.map((event, i) => ({ topic: topicOf(event.type), partition: 0, offset: String(i), decoded: { ok: true as const, event } }));
    const target = { pool, consumer, onRejected: async () => undefined };
    const open = opened();
    const deliveries = [slackPosted('root', 1), pagerCreated(1)];
    // Instance B's incident transaction is held after its insert, at the store of its offset (the test holds that row,
    // inserted and not committed); instance A's delivery transaction starts meanwhile.
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('INSERT INTO projection_offsets (consumer, topic, "partition", next_offset) VALUES ($1, $2, 0, 0)', [consumer, topicOf(open.type)]);
      const b = applyRecordBatch(target, topicOf(open.type), 0, records(open));
      const waiting = async () =>
        (await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)).rows[0].n;
      await waitFor(async () => (await waiting()) >= 1, { what: 'the incident transaction held at its offset' });
      const a = applyRecordBatch(target, topicOf(deliveries[0]!.type), 0, records(...deliveries));
      // Either A waits for B (one projecting transaction at a time) or it commits first: given a moment, both are possible.
      await Promise.race([a, new Promise((r) => setTimeout(r, 500))]);
      await holder.query('ROLLBACK');
      await Promise.all([a, b]);
    } finally {
      holder.release();
    }
    expect(await getIncident(pool, INCIDENT_ID)).toMatchObject({ slackRootTs: '1740823200.000100', pagerAlertId: 'a1b2c3d4-alert' });
  });
});

describe('several partitions\' batches in one transaction (applyRecordBatches)', () => {
  /** A generated stream as partitions of its topics (by alias, three a topic), with offsets counting per partition. */
  function partitioned(events: readonly AnyEnvelope[]) {
    const parts = new Map<string, { topic: string; partition: number; records: Array<{ topic: string; partition: number; offset: string; decoded: { ok: true; event: AnyEnvelope } }> }>();
    for (const event of events) {
      const topic = topicOf(event.type);
      const partition = [...event.alias].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 3, 0);
      const key = `${topic}/${partition}`;
      const p = parts.get(key) ?? { topic, partition, records: [] };
      p.records.push({ topic, partition, offset: String(p.records.length), decoded: { ok: true, event } });
      parts.set(key, p);
    }
    return [...parts.values()];
  }
  const offsetsOf = async (consumer: string) =>
    (await pool.query('SELECT topic, "partition", next_offset FROM projection_offsets WHERE consumer = $1 ORDER BY 1, 2', [consumer])).rows;
  const empty = async (consumer: string) => {
    await pool.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
    await pool.query('DELETE FROM projection_offsets WHERE consumer = $1', [consumer]);
  };

  it('gives the rows and offsets of the same batches applied one by one, in fetches of every size; a redelivery applies nothing', async () => {
    const parts = partitioned(buildStream({ aliases: 12, seed: 'apply-batches' }).events);
    const sums: string[] = [];
    const offsets: unknown[] = [];
    for (const size of [0, 1, 5, 1_000]) {
      const consumer = 'batches';
      await empty(consumer);
      const target = { pool, consumer, onRejected: async () => undefined };
      // Rounds: each fetch takes up to `size` records of every partition (0: the batches one by one, each alone).
      const step = size === 0 ? 1_000 : size;
      for (let from = 0; parts.some((p) => p.records.length > from); from += step) {
        const batches = parts.filter((p) => p.records.length > from).map((p) => ({ ...p, records: p.records.slice(from, from + step) }));
        if (size === 0) for (const b of batches) await applyRecordBatch(target, b.topic, b.partition, b.records);
        else await applyRecordBatches(target, batches);
      }
      const redelivered = await applyRecordBatches(target, parts);
      expect(redelivered.map((r) => [r.applied.size, r.alreadyApplied])).toEqual(parts.map((p) => [0, p.records.length]));
      sums.push(await inTransaction(pool, async (client) => (await checksumIn(client, 'public')).total));
      offsets.push((await offsetsOf(consumer)).map((r) => [r.topic, r.partition, String(r.next_offset)]));
    }
    expect(new Set(sums).size).toBe(1);
    expect(new Set(offsets.map((o) => JSON.stringify(o))).size).toBe(1);
  });

  it('applies nothing and stores no offset when one batch holds an event applied before, or a partition lies beyond its log', async () => {
    const consumer = 'batches-refused';
    await empty(consumer);
    const target = { pool, consumer, onRejected: async () => undefined };
    const [a, b] = [received('group-1', 0), received('group-2', 1)];
    const topic = topicOf(a.type);
    const rec = (event: AnyEnvelope, partition: number, offset: number) => ({ topic, partition, offset: String(offset), decoded: { ok: true as const, event } });
    await applyRecordBatch(target, topic, 0, [rec(a, 0, 0)]);

    // a written again on partition 1: the group fails on its unique id (the caller then goes batch by batch).
    const duplicate = applyRecordBatches(target, [
      { topic, partition: 2, records: [rec(b, 2, 0)] },
      { topic, partition: 1, records: [rec(a, 1, 0)] },
    ]);
    await expect(duplicate).rejects.toMatchObject({ code: '23505' });
    // Partition 0 stored at 1, its log said to end at 0 now.
    const ahead = applyRecordBatches(target, [
      { topic, partition: 2, records: [rec(b, 2, 0)] },
      { topic, partition: 0, records: [], logEnd: '0' },
    ]);
    await expect(ahead).rejects.toBeInstanceOf(ProjectionAheadOfLog);
    expect((await offsetsOf(consumer)).map((r) => [r.partition, String(r.next_offset)])).toEqual([[0, '1']]);
    const { rows } = await pool.query<{ event_id: string }>('SELECT event_id FROM incident_timeline');
    expect(rows.map((r) => r.event_id)).toEqual([a.id]);
  });
});

describe("a batch's offset, read at its transaction's start and stored at its commit", () => {
  const consumer = `it's a "consumer" \\ with quotes`;
  const events = [received('offset-1', 0), received('offset-2', 1), received('offset-3', 2)];
  const topic = topicOf(events[0]!.type);
  const records = events.map((event, i) => ({ topic, partition: 3, offset: String(10 + i), decoded: { ok: true as const, event } }));

  it('is stored under names holding quotes and backslashes, and a redelivery of the batch applies nothing again', async () => {
    await pool.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
    await pool.query('DELETE FROM projection_offsets WHERE consumer = $1', [consumer]);
    const target = { pool, consumer, onRejected: async () => undefined };
    const first = await applyRecordBatch(target, topic, 3, records);
    expect(first.nextOffset).toBe('13');
    expect(await readNextOffset(pool, consumer, topic, 3)).toBe('13');

    const again = await applyRecordBatch(target, topic, 3, records);
    expect(again.alreadyApplied).toBe(3);
    expect(again.applied.size).toBe(0);
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM incident_timeline');
    expect(Number(rows[0]!.n)).toBe(3);
  });

  it('is not stored, and no row is, when the batch fails before its commit', async () => {
    await pool.query('TRUNCATE incidents, incident_timeline, deliveries, silences');
    await pool.query('DELETE FROM projection_offsets WHERE consumer = $1', [consumer]);
    const invalid = { topic, partition: 3, offset: '13', decoded: { ok: false as const, error: 'not an event' } };
    const failing = { pool, consumer, onRejected: async () => Promise.reject(new Error('dead-letter topic unreachable')) };
    await expect(applyRecordBatch(failing, topic, 3, [...records, invalid])).rejects.toThrow('dead-letter topic unreachable');
    expect(await readNextOffset(pool, consumer, topic, 3)).toBeNull();
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM incident_timeline');
    expect(Number(rows[0]!.n)).toBe(0);
  });
});

/**
 * Postgres compiles a statement with JIT when the planner's estimate passes jit_above_cost, and a batch's incident insert
 * is estimated by the size of a table without statistics: a compile on every batch, costing more than the statement
 * (batch-apply.ts, BATCH_SETTINGS). The sessions here start with JIT on, whatever the server's setting.
 */
describe("a batch's transaction", () => {
  it('runs its statements without JIT compilation, and leaves the setting of the pool\'s sessions as it was', async () => {
    const jitPool = createPool(process.env.DATABASE_URL!, 2, undefined, { options: '-c jit=on' });
    try {
      await jitPool.query(`TRUNCATE incidents, incident_timeline, deliveries, silences; DELETE FROM projection_offsets WHERE consumer = 'jit'`);
      let inUse: PoolClient | undefined;
      jitPool.on('acquire', (client) => (inUse = client));
      const seen: string[] = [];
      // Called inside the batch's transaction, on its client, after its statements and before its commit.
      const target = {
        pool: jitPool,
        consumer: 'jit',
        onRejected: async () => {
          seen.push((await inUse!.query<{ jit: string }>("SELECT current_setting('jit') AS jit")).rows[0]!.jit);
        },
      };
      const events = [opened({ at: 0 }), pagerCreated(1), received('jit-1', 2)];
      const recs = events.map((event) => ({ topic: topicOf(event.type), partition: 0, decoded: { ok: true as const, event } }));
      const [open, page, input] = recs.map((r) => ({ ...r, offset: '0' }));
      const one = await applyRecordBatch(target, open!.topic, 0, [open!]);
      const many = await applyRecordBatches(target, [page!, input!].map((r) => ({ topic: r.topic, partition: 0, records: [r] })));

      expect(seen).toEqual(['off', 'off']);
      expect([one, ...many].map((r) => r.nextOffset)).toEqual(['1', '1', '1']);
      expect((await getIncident(jitPool, INCIDENT_ID))?.status).toBe('open');
      // SET LOCAL ended with each transaction: the next query on either session has JIT on again.
      const after = await Promise.all([jitPool.connect(), jitPool.connect()]);
      try {
        for (const client of after) expect((await client.query<{ jit: string }>("SELECT current_setting('jit') AS jit")).rows[0]!.jit).toBe('on');
      } finally {
        for (const client of after) client.release();
      }
    } finally {
      await jitPool.end();
    }
  });
});

describe('an event another transaction applies while a batch is being applied', () => {
  it('is a duplicate of the batch (not a refused record), and every event is in the timeline once', async () => {
    await pool.query(`TRUNCATE incidents, incident_timeline, deliveries, silences; DELETE FROM projection_offsets WHERE consumer = 'race'`);
    const events = [received('race-1', 0), received('race-2', 1), received('race-3', 2), opened({ at: 3 })];
    const topic = topicOf(events[0]!.type);
    const records = events.map((event, i) => ({ topic, partition: 0, offset: String(i), decoded: { ok: true as const, event } }));
    // Another writer holds race-2 uncommitted: the batch's COPY waits for it, fails once it commits, and the batch
    // is applied again with a look-up of its ids, which sees it.
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      expect(await applyProjection(other, project(events[1]!, { topic, partition: 9, offset: '0' }))).toBe('applied');
      const isolating: unknown[] = [];
      const applying = applyRecordBatch({ pool, consumer: 'race', onRejected: async () => undefined }, topic, 0, records, (err) => isolating.push(err));
      await waitUntil(async () => {
        const { rows } = await pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'COPY incident_timeline%'`);
        return rows.length > 0;
      });
      await other.query('COMMIT');
      const result = await applying;

      expect(isolating).toEqual([]);
      expect(result.rejected).toEqual([]);
      expect(result.duplicates).toBe(1);
      expect([...result.applied.values()].reduce((a, b) => a + b, 0)).toBe(3);
      expect(result.nextOffset).toBe('4');
    } finally {
      other.release();
    }
    const { rows } = await pool.query<{ event_id: string; n: string }>('SELECT event_id, count(*) AS n FROM incident_timeline GROUP BY event_id');
    expect(rows.map((r) => [r.event_id, Number(r.n)]).sort()).toEqual(events.map((e) => [e.id, 1]).sort());
    expect((await getIncident(pool, INCIDENT_ID))?.status).toBe('open');
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Incidents are inserted once and updated by most of their later events. An update that changes no indexed column
 * (a repeat: count and last event time) is written beside the old row on its page, without an entry in each of the
 * table's indexes, when the page has room: migration 008 leaves that room.
 */
describe('repeats of incidents already stored', () => {
  const INCIDENTS = 400;
  const incidentId = (i: number) => deriveId('incident', 'hot-updates', i);
  const repeatOf = (i: number): AnyEnvelope => {
    const e = repeated(2, 5);
    return { ...e, id: deriveId('hot-updates', 'repeated', i), data: { ...e.data, incidentId: incidentId(i) } };
  };

  it('are mostly updated in place on their page (HOT), not with a new entry in every index', async () => {
    const opens = Array.from({ length: INCIDENTS }, (_, i) => opened({ incidentId: incidentId(i) }));
    await inTransaction(pool, (client) => applyProjections(client, positioned(opens)));
    const counts = await inTransaction(pool, async (client) => {
      // pg_stat_xact_* reads the connection's pending counts, which on Postgres 15 still hold earlier transactions'
      // updates until the connection flushes them (at most once a second, when idle). Nothing is flushed inside a
      // transaction, so the difference across the apply is this apply's own.
      const read = async () => {
        const { rows } = await client.query<{ upd: string; hot: string }>(
          `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_xact_user_tables WHERE relname = 'incidents' AND schemaname = 'public'`,
        );
        return { updated: Number(rows[0]!.upd), hot: Number(rows[0]!.hot) };
      };
      const before = await read();
      await applyProjections(client, positioned(Array.from({ length: INCIDENTS }, (_, i) => repeatOf(i))));
      const after = await read();
      return { updated: after.updated - before.updated, hot: after.hot - before.hot };
    });
    expect(counts.updated).toBe(INCIDENTS);
    // Pages filled to 70 % took a new version of half their rows (202 of 400 in a fresh table); packed full, none.
    expect(counts.hot).toBeGreaterThan(INCIDENTS / 4);
    expect((await getIncident(pool, incidentId(7)))?.count).toBe(2);
  });
});

/**
 * The timeline and the deliveries are read by incident through an index on incident_id (migration 009): rows that
 * belong to no incident (received inputs, above all) are in no such index, since no read by incident can find them.
 */
describe('rows that belong to no incident', () => {
  /** Entries of the table's index led by incident_id (counted when it is built again), and the table's rows with and without one. */
  async function byIncident(table: string): Promise<{ entries: number; withIncident: number; without: number }> {
    await pool.query(`REINDEX TABLE ${table}`);
    const { rows } = await pool.query<{ entries: string }>(
      `SELECT c.reltuples::bigint AS entries
         FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
        WHERE x.indrelid = $1::regclass AND a.attname = 'incident_id'`,
      [table],
    );
    expect(rows).toHaveLength(1);
    const counts = await pool.query<{ with: string; without: string }>(
      `SELECT count(incident_id) AS with, count(*) - count(incident_id) AS without FROM ${table}`,
    );
    return { entries: Number(rows[0]!.entries), withIncident: Number(counts.rows[0]!.with), without: Number(counts.rows[0]!.without) };
  }

  it('take no entry in the indexes by incident, and each incident still reads its whole timeline', async () => {
    const stream = buildStream({ aliases: 12, seed: 'no-incident-rows' });
    await inTransaction(pool, async (client) => {
      await client.query('TRUNCATE incidents, incident_timeline, deliveries, silences, notifications');
      await applyProjections(client, positioned(stream.events));
    });

    const timeline = await byIncident('incident_timeline');
    expect(timeline.without).toBeGreaterThan(0);
    expect(timeline.entries).toBe(timeline.withIncident);
    const deliveries = await byIncident('deliveries');
    expect(deliveries.entries).toBe(deliveries.withIncident);
    const incidentId = stream.aliases[0]!.incidentIds[0]!;
    expect(await getTimeline(pool, incidentId)).toEqual(replay(...stream.events).store.timelineOf(incidentId));
  });
});
