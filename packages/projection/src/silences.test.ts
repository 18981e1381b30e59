/** What silences.v1 looks like in the history tables. */
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { SILENCE_ID, silenceCreated, silenceExpired } from './testdata/events';
import { given } from './testdata/given';

/** The same event, recorded at another instant. */
const recordedAt = <E extends AnyEnvelope>(e: E, at: string): E => ({ ...e, occurredAt: at, recordedAt: at });

describe('silence events', () => {
  it('SilenceCreated inserts the silence as written, with the time it was recorded', () => {
    const { store } = given(silenceCreated(0));

    expect(store.silence(SILENCE_ID)).toEqual({
      silenceId: SILENCE_ID,
      kind: 'maintenance',
      matchers: ['team="db"', 'severity!="info"'],
      startsAt: '2025-03-01T10:00:00.000Z',
      endsAt: '2025-03-01T10:30:00.000Z',
      createdBy: 'alice',
      comment: 'database upgrade',
      createdAt: '2025-03-01T10:00:00.000Z',
      expiredAt: null,
      expiredBy: null,
    });
    expect([...store.timeline.values()]).toEqual([
      expect.objectContaining({ type: 'SilenceCreated', topic: TOPICS.silences, alias: `silence:${SILENCE_ID}`, incidentId: null }),
    ]);
  });

  it('SilenceExpired records who ended it and when; a later expiry does not move it', () => {
    const { store } = given(silenceCreated(0), silenceExpired(10, SILENCE_ID, 'bob'), silenceExpired(12, SILENCE_ID, 'carol'));

    expect(store.silence(SILENCE_ID)).toMatchObject({ expiredAt: '2025-03-01T10:10:00.000Z', expiredBy: 'bob' });
    expect(store.timeline.size).toBe(3);
  });

  it('an expiry of a silence never created changes no silence row', () => {
    const { store } = given(silenceExpired(10, 'unknown'));

    expect(store.silences.size).toBe(0);
    expect(store.timeline.size).toBe(1);
  });

  it('a redelivered SilenceCreated is applied once', () => {
    const world = given(silenceCreated(0), silenceExpired(10));

    const again = world.redeliverFrom(TOPICS.silences, 0);
    world.when(silenceCreated(0));

    expect(again).toMatchObject({ alreadyApplied: 2, nextOffset: null });
    expect(world.store.silence(SILENCE_ID)).toMatchObject({ expiredBy: 'bob' });
    expect(world.store.timeline.size).toBe(2);
  });

  it('a silence that ended more than 7 days before a later silence event is pruned; its events stay in the timeline', () => {
    // silence-1 ends at 10:30 on March 1st; silence-2 is expired by hand at 10:05.
    const longer = silenceCreated(0, { id: 'silence-long', endsAt: '2025-03-20T00:00:00.000Z' });
    const early = [silenceCreated(0), silenceCreated(0, { id: 'silence-2' }), silenceExpired(5, 'silence-2'), longer];

    const sevenDaysAfterTheExpiry = given(...early, recordedAt(silenceCreated(0, { id: 'a' }), '2025-03-08T10:05:00.000Z'));
    expect([...sevenDaysAfterTheExpiry.store.silences.keys()].sort()).toEqual(['a', SILENCE_ID, 'silence-2', 'silence-long']);

    const justAfter = given(...early, recordedAt(silenceCreated(0, { id: 'a' }), '2025-03-08T10:05:00.001Z'));
    expect([...justAfter.store.silences.keys()].sort()).toEqual(['a', SILENCE_ID, 'silence-long']);

    const days = given(...early, recordedAt(silenceExpired(0, 'unknown'), '2025-03-08T10:30:00.001Z'));
    expect([...days.store.silences.keys()]).toEqual(['silence-long']);
    expect(days.store.timeline.size).toBe(5);
  });
});
