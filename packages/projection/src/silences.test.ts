/** What silences.v1 looks like in the history tables. */
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { SILENCE_ID, silenceCreated, silenceExpired } from './testdata/events';
import { history, redeliver } from './testdata/projection-spec';

/** The same event, recorded at another instant. */
const recordedAt = <E extends AnyEnvelope>(e: E, at: string): E => ({ ...e, occurredAt: at, recordedAt: at });

describe('silence events', () => {
  it('SilenceCreated inserts the silence as written, with the time it was recorded', () => {
    history.given().when(silenceCreated(0)).then(({ store }) => {
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
  });

  it('SilenceExpired records who ended it and when; a later expiry does not move it', () => {
    history.given(silenceCreated(0), silenceExpired(10, SILENCE_ID, 'bob')).when(silenceExpired(12, SILENCE_ID, 'carol')).then(({ store }) => {
      expect(store.silence(SILENCE_ID)).toMatchObject({ expiredAt: '2025-03-01T10:10:00.000Z', expiredBy: 'bob' });
      expect(store.timeline.size).toBe(3);
    });
  });

  it('an expiry of a silence never created changes no silence row', () => {
    history.given().when(silenceExpired(10, 'unknown')).then(({ store }) => {
      expect(store.silences.size).toBe(0);
      expect(store.timeline.size).toBe(1);
    });
  });

  it('a redelivered SilenceCreated is applied once', () => {
    history.given(silenceCreated(0), silenceExpired(10)).when(redeliver(TOPICS.silences, 0)).then(({ last }) => {
      expect(last).toMatchObject({ alreadyApplied: 2, nextOffset: null });
    });
    history.given(silenceCreated(0), silenceExpired(10), redeliver(TOPICS.silences, 0)).when(silenceCreated(0)).then(({ store }) => {
      expect(store.silence(SILENCE_ID)).toMatchObject({ expiredBy: 'bob' });
      expect(store.timeline.size).toBe(2);
    });
  });

  it('a silence that ended more than 7 days before a later silence event is pruned; its events stay in the timeline', () => {
    // silence-1 ends at 10:30 on March 1st; silence-2 is expired by hand at 10:05.
    const longer = silenceCreated(0, { id: 'silence-long', endsAt: '2025-03-20T00:00:00.000Z' });
    const early = [silenceCreated(0), silenceCreated(0, { id: 'silence-2' }), silenceExpired(5, 'silence-2'), longer];

    history.given(...early).when(recordedAt(silenceCreated(0, { id: 'a' }), '2025-03-08T10:05:00.000Z')).then(({ store }) => {
      expect([...store.silences.keys()].sort()).toEqual(['a', SILENCE_ID, 'silence-2', 'silence-long']);
    });

    history.given(...early).when(recordedAt(silenceCreated(0, { id: 'a' }), '2025-03-08T10:05:00.001Z')).then(({ store }) => {
      expect([...store.silences.keys()].sort()).toEqual(['a', SILENCE_ID, 'silence-long']);
    });

    history.given(...early).when(recordedAt(silenceExpired(0, 'unknown'), '2025-03-08T10:30:00.001Z')).then(({ store }) => {
      expect([...store.silences.keys()]).toEqual(['silence-long']);
      expect(store.timeline.size).toBe(5);
    });
  });
});
