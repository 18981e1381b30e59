import { Type } from '@sinclair/typebox';

/**
 * router.ticks.v1: time, recorded as an input. The router never reads the clock while deciding; when a storm summary
 * has changes it has not shown and the storm has gone quiet, the router instance that owns the summary's key writes
 * this record with the wall clock as its recordedAt, and decides it like any input (packages/routing core/storm-tick.ts).
 * Keyed (alias) by the summary's key, `storm:{channel}:{since}`, so every tick of one storm is decided by one instance,
 * in order, and a replay of the topic decides the same updates.
 */
export const StormSummaryTick = Type.Object(
  {
    summaryIncidentId: Type.String({ minLength: 1, description: 'Incident id of the storm summary message.' }),
    channel: Type.String({ minLength: 1, maxLength: 200 }),
    since: Type.String({ format: 'date-time', description: 'When the storm started (part of its key).' }),
  },
  { additionalProperties: false },
);

/**
 * router.ticks.v1: a silence ended (its endsAt passed, or SilenceExpired ended it early) for an alias that keeps a firing
 * that silence suppressed (router state alert-suppressed). Keyed by the alias, so the instance holding it decides it,
 * in order with the alias's alerts. Written by the router instance holding the alias, stamped with its wall clock; the
 * decision looks again at the silences in force at that time, so a tick written early, twice or by two instances during
 * a rebalance pages nothing twice (packages/routing core/silence-end.ts).
 */
export const SilenceEndedTick = Type.Object(
  {
    silenceId: Type.String({ minLength: 1, description: 'The silence that ended: the one the alias\'s kept firing names.' }),
  },
  { additionalProperties: false },
);

/**
 * router.ticks.v1: nothing inhibits any more an alias's firing that an inhibit rule muted while the alias had no open
 * incident (router state alert-suppressed, reason inhibited): its inhibitor resolved, expired, or changed so that it no
 * longer matches. Keyed by the alias, so the instance holding it decides it, in order with the alias's alerts. Written
 * by the router instance holding the alias, stamped with its wall clock; the decision decides the kept firing again at
 * that time (an inhibitor found then mutes it again), so a tick written twice pages nothing twice
 * (packages/routing core/inhibition-end.ts).
 */
export const InhibitionEndedTick = Type.Object(
  {
    inhibitedBy: Type.String({ minLength: 1, maxLength: 512, description: 'The alias that inhibited the kept firing, as its state names it.' }),
  },
  { additionalProperties: false },
);
