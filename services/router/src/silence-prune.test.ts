/** When the router forgets silences that ended: by the partition furthest behind, not the one furthest ahead. */
import { deriveId, makeEnvelope } from '@alertbus/schemas';
import { EVICTION_GRACE_MS, SilenceBook } from '@alertbus/routing';
import { silencePruneHorizon } from './processor';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('silencePruneHorizon', () => {
  test('the grace before the newest input of the partition furthest behind', () => {
    expect(silencePruneHorizon(new Set([0, 1]), new Map([[0, T0 + 3 * HOUR], [1, T0 + HOUR / 2]]))).toBe(T0 + HOUR / 2 - EVICTION_GRACE_MS);
  });

  test('nothing while a held partition has no input yet: it may be further behind still', () => {
    expect(silencePruneHorizon(new Set([0, 1, 2]), new Map([[0, T0], [1, T0]]))).toBeUndefined();
    expect(silencePruneHorizon(new Set(), new Map())).toBeUndefined();
  });

  test('a silence still covering a lagging partition\'s inputs is kept, while the other partition is three hours on', () => {
    const book = new SilenceBook();
    book.apply(
      makeEnvelope({
        id: deriveId('silence', 'S', 'created'),
        type: 'SilenceCreated',
        alias: 'silence:S',
        occurredAt: iso(T0),
        recordedAt: iso(T0),
        source: 'history-api',
        data: { silenceId: 'S', matchers: ['alertname="DiskFull"'], startsAt: iso(T0), endsAt: iso(T0 + HOUR), createdBy: 'ana', comment: 'disk swap', kind: 'silence' },
      }),
    );
    // Partition 0 caught up to 12:59; partition 1 is deciding inputs of 10:30, inside the silence.
    const horizon = silencePruneHorizon(new Set([0, 1]), new Map([[0, T0 + 3 * HOUR - 60_000], [1, T0 + HOUR / 2]]));
    expect(book.prune(horizon!)).toBe(0);
    expect(book.find({ alertname: 'DiskFull' }, T0 + HOUR / 2)).toBeDefined();
    // Once partition 1 is past the silence by more than the grace, it is forgotten.
    expect(book.prune(silencePruneHorizon(new Set([0, 1]), new Map([[0, T0 + 3 * HOUR], [1, T0 + 2 * HOUR + 1]]))!)).toBe(1);
  });
});
