/** The sender's startsAt and endsAt in the incidents table: kept where they can be right, so no duration is negative or absurd. */
import { INCIDENT_ID, acknowledged, opened, resolved } from './testdata/events';
import { history } from './testdata/projection-spec';
import { senderEnd, senderStart } from './sender-times';

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

  it('an endsAt before the start (the sender\'s clock, or a start we do not know) is raised to it: no negative duration', () => {
    history.given(opened({ startsAt: '2025-03-01T09:40:00Z' })).when(resolved(20, 1, { endsAt: '2025-03-01T09:30:00Z' })).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ startedAt: '2025-03-01T09:40:00.000Z', endedAt: '2025-03-01T09:40:00.000Z' });
    });
    history.given(opened()).when(resolved(20, 1, { endsAt: '2025-03-01T09:30:00Z' })).then(({ store }) => {
      expect(store.incident(INCIDENT_ID)).toMatchObject({ startedAt: null, endedAt: OPENED });
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
});
