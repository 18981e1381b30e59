/** Kafka delivers at least once; the projection applies each record, and each event, once. */
import { TOPICS, makeEnvelope } from '@alertbus/schemas';
import { planBatch } from './batch-plan';
import { INCIDENT_ID, opened, repeated, slackPosted } from './testdata/events';
import { CONSUMER, history, redeliver, unread } from './testdata/projection-spec';

const rec = (offset: number, ok = true) => ({
  offset: String(offset),
  decoded: ok ? ({ ok: true, event: opened() } as const) : ({ ok: false, error: 'envelope invalid: /: must have required property "id"' } as const),
});

describe('redelivery', () => {
  it('a redelivered record (offset below the stored next offset) is skipped', () => {
    history.given(opened(), repeated(2, 5), repeated(3, 9)).when(redeliver(TOPICS.incidents, 1)).then(({ store, last }) => {
      expect(last).toMatchObject({ alreadyApplied: 2, apply: [], nextOffset: null });
      expect(store.incident(INCIDENT_ID)).toMatchObject({ count: 3, lastEventAt: '2025-03-01T10:09:00.000Z' });
      expect(store.timelineOf(INCIDENT_ID)).toHaveLength(3);
      expect(store.offsets.get(`${CONSUMER}|${TOPICS.incidents}|0`)).toBe('3');
    });
  });

  it('a batch that overlaps what was applied applies only the new records', () => {
    history.given(opened(), unread(repeated(2, 5))).when(redeliver(TOPICS.incidents, 0)).then(({ store, last }) => {
      expect(last!.alreadyApplied).toBe(1);
      expect(last!.outcomes).toEqual(['applied']);
      expect(store.incident(INCIDENT_ID)).toMatchObject({ count: 2 });
    });
  });

  it('the same event written twice (a producer retry: new offset, same id) is applied once', () => {
    history.given(opened(), slackPosted('root', 0), repeated(2, 5), repeated(2, 5)).when(slackPosted('root', 0)).then(({ store }) => {
      expect(store.timelineOf(INCIDENT_ID).map((r) => r.type)).toEqual([
        'IncidentOpened',
        'SlackMessagePosted',
        'IncidentRepeated',
      ]);
      expect(store.deliveriesOf(INCIDENT_ID)).toHaveLength(1);
      expect(store.offsets.get(`${CONSUMER}|${TOPICS.incidents}|0`)).toBe('3');
    });
  });

  it('a duplicate id is reported as such, so it can be counted', () => {
    history.given(opened(), unread(opened())).when(redeliver(TOPICS.incidents, 1)).then(({ last }) => {
      expect(last!.outcomes).toEqual(['duplicate']);
    });
  });

  it('a record that fails its schema is set aside and its offset still covered', () => {
    const broken = makeEnvelope({ ...opened(), id: 'broken', data: { title: 'no incident id' } } as never);
    history.given(opened(), unread(broken, TOPICS.incidents), unread(repeated(2, 5))).when(redeliver(TOPICS.incidents, 1)).then(({ store, last }) => {
      expect(last!.invalid).toEqual([expect.objectContaining({ error: expect.stringContaining('IncidentOpened data invalid') })]);
      expect(last!.outcomes).toEqual(['applied']);
      expect(last!.nextOffset).toBe('3');
      expect(store.incident(INCIDENT_ID)).toMatchObject({ count: 2 });
    });
  });
});

describe('planBatch', () => {
  it('with no stored offset, everything is new', () => {
    expect(planBatch([rec(0), rec(1)], null)).toMatchObject({ alreadyApplied: 0, nextOffset: '2' });
  });

  it('stored offsets beyond 2^53 are compared exactly', () => {
    const big = 2n ** 60n;
    const plan = planBatch([rec(0), { ...rec(0), offset: String(big) }, { ...rec(0), offset: String(big + 1n) }], String(big + 1n));

    expect(plan.alreadyApplied).toBe(2);
    expect(plan.nextOffset).toBe(String(big + 2n));
  });

  it('invalid records move the next offset like valid ones', () => {
    const plan = planBatch([rec(5), rec(6, false)], '5');

    expect(plan.apply).toHaveLength(1);
    expect(plan.invalid).toEqual([{ record: rec(6, false), error: expect.stringContaining('envelope invalid') }]);
    expect(plan.nextOffset).toBe('7');
  });

  it('a batch entirely below the stored offset changes nothing', () => {
    expect(planBatch([rec(3), rec(4)], '10')).toEqual({ apply: [], invalid: [], alreadyApplied: 2, nextOffset: null });
  });
});
