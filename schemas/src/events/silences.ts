import { Type, type Static } from '@sinclair/typebox';
import { Id, Timestamp } from './shared';

// ---------------------------------------------------------------- silences (history API / CLI → router, history)

export const SilenceCreated = Type.Object(
  {
    silenceId: Id,
    matchers: Type.Array(Type.String({ minLength: 1 }), {
      description:
        'Alertmanager-syntax matchers (=, !=, =~, !~) over labels and source/severity/status; none matches every ' +
        'alert (the history API writes that only when asked with allowAll).',
    }),
    startsAt: Timestamp,
    endsAt: Timestamp,
    createdBy: Type.String({ minLength: 1 }),
    comment: Type.String({ minLength: 1 }),
    kind: Type.Union([Type.Literal('silence'), Type.Literal('maintenance')]),
  },
  { additionalProperties: false },
);
export const SilenceExpired = Type.Object(
  { silenceId: Id, expiredBy: Type.String({ minLength: 1 }), expiredAt: Timestamp },
  { additionalProperties: false },
);
export type SilenceCreated = Static<typeof SilenceCreated>;
export type SilenceExpired = Static<typeof SilenceExpired>;
