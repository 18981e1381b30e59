import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './shared';

// ---------------------------------------------------------------- dead letters

export const DeadLetter = Type.Object(
  {
    consumer: Type.String({ description: 'Consumer group that gave up on the record.' }),
    origin: Type.Object(
      {
        topic: Type.String(),
        partition: Type.Integer({ minimum: 0 }),
        offset: Type.String(),
        timestamp: Type.Optional(Type.String()),
        key: Type.Union([Type.String(), Type.Null()]),
        value: Type.Union([Type.String(), Type.Null()], { description: 'The original value, utf-8 (or base64 when not text).' }),
        valueEncoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
        headers: Type.Record(Type.String(), Type.String()),
        valueOmitted: Type.Optional(
          Type.Object(
            { bytes: Type.Integer({ minimum: 0 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) },
            {
              additionalProperties: false,
              description:
                'Set when the value was too large to keep in a dead letter one write can hold (`value` is then null): its size and digest; the record itself stays at topic/partition/offset.',
            },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    attempts: Type.Array(
      Type.Object({ at: Timestamp, error: Type.String() }, { additionalProperties: false }),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);
export type DeadLetter = Static<typeof DeadLetter>;
