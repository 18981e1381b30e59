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
