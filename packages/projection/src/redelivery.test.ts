/** Kafka delivers at least once; the projection applies each record, and each event, once. */
import { TOPICS, makeEnvelope } from '@alertbus/schemas';
import { planBatch } from './batch-plan';
import { INCIDENT_ID, opened, repeated, slackPosted } from './testdata/events';
import { CONSUMER, given } from './testdata/given';

const rec = (offset: number, ok = true) => ({
  offset: String(offset),
  decoded: ok ? ({ ok: true, event: opened() } as const) : ({ ok: false, error: 'envelope invalid: /: must have required property "id"' } as const),
});

describe('redelivery', () => {
  it('a redelivered record (offset below the stored next offset) is skipped', () => {
    const world = given(opened(), repeated(2, 5), repeated(3, 9));

    const again = world.redeliverFrom(TOPICS.incidents, 1);

    expect(again).toMatchObject({ alreadyApplied: 2, apply: [], nextOffset: null });
    expect(world.store.incident(INCIDENT_ID)).toMatchObject({ count: 3, lastEventAt: '2025-03-01T10:09:00.000Z' });
    expect(world.store.timelineOf(INCIDENT_ID)).toHaveLength(3);
    expect(world.store.offsets.get(`${CONSUMER}|${TOPICS.incidents}|0`)).toBe('3');
  });

  it('a batch that overlaps what was applied applies only the new records', () => {
    const world = given(opened());
    world.write(repeated(2, 5));

    const result = world.redeliverFrom(TOPICS.incidents, 0);

    expect(result.alreadyApplied).toBe(1);
    expect(result.outcomes).toEqual(['applied']);
    expect(world.store.incident(INCIDENT_ID)).toMatchObject({ count: 2 });
  });

  it('the same event written twice (a producer retry: new offset, same id) is applied once', () => {
    const world = given(opened(), slackPosted('root', 0), repeated(2, 5));

    const result = world.when(repeated(2, 5)).when(slackPosted('root', 0));

    expect(world.store.timelineOf(INCIDENT_ID).map((r) => r.type)).toEqual([
      'IncidentOpened',
      'SlackMessagePosted',
      'IncidentRepeated',
    ]);
    expect(world.store.deliveriesOf(INCIDENT_ID)).toHaveLength(1);
    expect(result.store.offsets.get(`${CONSUMER}|${TOPICS.incidents}|0`)).toBe('3');
  });

  it('a duplicate id is reported as such, so it can be counted', () => {
    const world = given(opened());
    world.write(opened());

    expect(world.redeliverFrom(TOPICS.incidents, 1).outcomes).toEqual(['duplicate']);
  });

  it('a record that fails its schema is set aside and its offset still covered', () => {
    const world = given(opened());
    world.write(makeEnvelope({ ...opened(), id: 'broken', data: { title: 'no incident id' } } as never), TOPICS.incidents);
    world.write(repeated(2, 5));

    const result = world.redeliverFrom(TOPICS.incidents, 1);

    expect(result.invalid).toEqual([expect.objectContaining({ error: expect.stringContaining('IncidentOpened data invalid') })]);
    expect(result.outcomes).toEqual(['applied']);
    expect(result.nextOffset).toBe('3');
    expect(world.store.incident(INCIDENT_ID)).toMatchObject({ count: 2 });
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
