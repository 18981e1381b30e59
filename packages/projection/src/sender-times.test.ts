/** The sender's startsAt and endsAt in the incidents table: kept where they can be right, so no duration is negative or absurd. */
import { ALIAS, INCIDENT_ID, acknowledged, opened, resolved } from './testdata/events';
import { deriveId } from '@alertbus/schemas';
import { history } from './testdata/projection-spec';
import { endedAfterStart, senderEnd, senderStart, startedAfterPrevious } from './sender-times';

// The builders' incident opens at 10:00 (opened()), and resolved(n) is at 10:n.
const OPENED = '2025-03-01T10:00:00.000Z';

describe('the sender\'s times of an incident', () => {
  it('an Alertmanager alert that started 20 minutes before alertbus opened it, and ended 5 minutes before its resolve arrived', () => {
    history
      .given(opened({ startsAt: '2025-03-01T09:40:00.612666101Z' }), acknowledged(2))
      .when(resolved(20, 1, { endsAt: '2025-03-01T10:15:00Z' }))
      .then(({ store }) => {
        expect(store.incident(INCIDENT_ID)).toMatchObject({
          openedAt: OPENED,
          // Alertmanager writes nanoseconds; the projection keeps milliseconds.
          startedAt: '2025-03-01T09:40:00.612Z',
          resolvedAt: '2025-03-01T10:20:00.000Z',
          endedAt: '2025-03-01T10:15:00.000Z',
        });
      });
  });

  it('without startsAt and endsAt (a generic JSON alert) both stay null', () => {
    history.given(opened()).when(resolved(20)).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ startedAt: null, endedAt: null, resolvedAt: '2025-03-01T10:20:00.000Z' });
    });
  });

  it('a resolve by a person keeps ended_at null', () => {
    history.given(opened({ startsAt: '2025-03-01T09:40:00Z' })).when(resolved(20, 1, { by: 'alice' })).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ startedAt: '2025-03-01T09:40:00.000Z', endedAt: null, resolvedBy: 'alice' });
    });
  });

  it('an endsAt before the start (the sender\'s clock, or a start we do not know) is raised to it within the skew, and not kept beyond: no negative duration', () => {
    history.given(opened({ startsAt: '2025-03-01T09:40:00Z' })).when(resolved(20, 1, { endsAt: '2025-03-01T09:37:00Z' })).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ startedAt: '2025-03-01T09:40:00.000Z', endedAt: '2025-03-01T09:40:00.000Z' });
    });
    history.given(opened({ startsAt: '2025-03-01T09:40:00Z' })).when(resolved(20, 1, { endsAt: '2025-03-01T09:30:00Z' })).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ startedAt: '2025-03-01T09:40:00.000Z', endedAt: null });
    });
    history.given(opened()).when(resolved(20, 1, { endsAt: '2025-03-01T09:56:00Z' })).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ startedAt: null, endedAt: OPENED });
    });
    history.given(opened()).when(resolved(20, 1, { endsAt: '2025-03-01T09:30:00Z' })).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ startedAt: null, endedAt: null });
    });
  });

  it.each<[string | undefined, string | null, string]>([
    ['2025-03-01T09:40:00Z', '2025-03-01T09:40:00.000Z', 'before opening: kept'],
    ['2025-03-01T10:40:00+01:00', '2025-03-01T09:40:00.000Z', 'written with an offset: that instant'],
    ['2025-03-01T10:03:00Z', OPENED, 'after opening by less than the skew allowed (5 minutes): opened_at'],
    ['2025-03-01T10:06:00Z', null, 'after opening by more than the skew: not believable'],
    ['2025-02-22T10:00:00Z', '2025-02-22T10:00:00.000Z', 'exactly 7 days before: kept'],
    ['2025-02-22T09:59:59Z', null, 'more than 7 days before: not used'],
    ['yesterday', null, 'not a time'],
    [undefined, null, 'none given'],
  ])('startsAt %s → started_at %s (%s)', (startsAt, expected, _why) => {
    expect(senderStart(startsAt, OPENED)).toBe(expected);
  });

  it.each<[string | undefined, string | undefined, string]>([
    ['2025-03-01T10:15:00Z', '2025-03-01T10:15:00.000Z', 'before the resolve arrived: kept'],
    ['2025-03-01T10:24:00Z', '2025-03-01T10:20:00.000Z', 'after it by less than the skew: resolved_at'],
    ['2025-03-01T10:26:00Z', undefined, 'after it by more than the skew: not believable'],
    [undefined, undefined, 'none given'],
  ])('endsAt %s → ended_at %s (%s)', (endsAt, expected, _why) => {
    expect(senderEnd(endsAt, '2025-03-01T10:20:00.000Z')).toBe(expected);
  });

  describe('an incident opened again on its alias starts no earlier than the previous one ended', () => {
    const SECOND = deriveId('incident', ALIAS, 2);
    // The alert still fires with its first startsAt (09:40) when it is fired again at 10:30.
    const reopened = () => opened({ at: 30, incidentId: SECOND, occurrence: 2, previous: INCIDENT_ID, startsAt: '2025-03-01T09:40:00Z' });

    it('after a person resolved the previous one (10:20): from that resolve, not from 09:40', () => {
      history.given(opened({ startsAt: '2025-03-01T09:40:00Z' }), resolved(20, 1, { by: 'alice' })).when(reopened()).then(({ store }) => {
        expect(store.incident(INCIDENT_ID)).toMatchObject({ startedAt: '2025-03-01T09:40:00.000Z', resolvedAt: '2025-03-01T10:20:00.000Z', endedAt: null });
        expect(store.incident(SECOND)).toMatchObject({ startedAt: '2025-03-01T10:20:00.000Z', openedAt: '2025-03-01T10:30:00.000Z' });
      });
    });

    it("after its sender resolved it: from the sender's end (10:15), the previous incident's end as the durations take it", () => {
      history
        .given(opened({ startsAt: '2025-03-01T09:40:00Z' }), resolved(20, 1, { endsAt: '2025-03-01T10:15:00Z' }))
        .when(reopened())
        .then(({ store }) => expect(store.incident(SECOND)).toMatchObject({ startedAt: '2025-03-01T10:15:00.000Z' }));
    });

    it('a start after the previous end, or none, is left as it is', () => {
      history
        .given(opened({ startsAt: '2025-03-01T09:40:00Z' }), resolved(20, 1, { by: 'alice' }))
        .when(opened({ at: 30, incidentId: SECOND, occurrence: 2, previous: INCIDENT_ID, startsAt: '2025-03-01T10:25:00Z' }))
        .then(({ store }) => expect(store.incident(SECOND)).toMatchObject({ startedAt: '2025-03-01T10:25:00.000Z' }));
      history
        .given(opened(), resolved(20, 1, { by: 'alice' }))
        .when(opened({ at: 30, incidentId: SECOND, occurrence: 2, previous: INCIDENT_ID }))
        .then(({ store }) => expect(store.incident(SECOND)).toMatchObject({ startedAt: null }));
    });

    it.each<[string | null, string | null, string | null, string]>([
      ['2025-03-01T09:40:00.000Z', '2025-03-01T10:20:00.000Z', '2025-03-01T10:20:00.000Z', 'before the previous end: raised to it'],
      ['2025-03-01T09:40:00.000Z', '2025-03-01T10:40:00.000Z', '2025-03-01T10:30:00.000Z', 'a previous end after this opening: opened_at'],
      ['2025-03-01T10:20:00.000Z', '2025-03-01T10:20:00.000412Z', '2025-03-01T10:20:00.000412Z', 'earlier by microseconds, as Postgres compares'],
      ['2025-03-01T10:25:00.000Z', '2025-03-01T10:20:00.000Z', '2025-03-01T10:25:00.000Z', 'after it: kept'],
      ['2025-03-01T09:40:00.000Z', null, '2025-03-01T09:40:00.000Z', 'no previous end: kept'],
      [null, '2025-03-01T10:20:00.000Z', null, 'no start: none'],
    ])('%s after a previous end at %s → %s (%s)', (started, previousEnd, expected, _why) => {
      expect(startedAfterPrevious(started, '2025-03-01T10:30:00.000Z', previousEnd)).toBe(expected);
    });
  });

  describe("an end no earlier than the incident's start", () => {
    const row = { startedAt: null, openedAt: '2025-03-01T10:30:00.000Z' };
    it.each<[string, string | null, string]>([
      ['2025-03-01T10:45:00.000Z', '2025-03-01T10:45:00.000Z', 'after the start: kept'],
      ['2025-03-01T10:27:00.000Z', '2025-03-01T10:30:00.000Z', 'before it within the clock skew: the start'],
      ['2025-03-01T10:24:59.999Z', null, 'before it by more than the skew: not known'],
      ['2025-02-20T10:30:00.000Z', null, 'days before it (a payload sent again): not known'],
    ])('%s → %s (%s)', (ended, expected, _why) => {
      expect(endedAfterStart(ended, row)).toBe(expected);
    });
  });
});
