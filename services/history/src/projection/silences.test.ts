/** What silences.v1 looks like in the history tables. */
import { TOPICS } from '@alertbus/schemas';
import { SILENCE_ID, silenceCreated, silenceExpired } from './testdata/events';
import { given } from './testdata/given';

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
});
