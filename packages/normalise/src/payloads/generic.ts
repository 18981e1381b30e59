import { Type, type Static } from '@sinclair/typebox';
import { AlertStatusField, StringMap } from './common';

/** One alert in alertbus's own documented webhook shape (see the README). */
export const GenericAlert = Type.Object({
  alias: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  title: Type.String({ minLength: 1 }),
  severity: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  status: Type.Optional(AlertStatusField),
  description: Type.Optional(Type.String()),
  labels: Type.Optional(StringMap),
  annotations: Type.Optional(StringMap),
  links: Type.Optional(Type.Array(Type.Object({ title: Type.String(), url: Type.String({ minLength: 1 }) }))),
  occurredAt: Type.Optional(Type.String({ format: 'date-time' })),
});
export type GenericAlert = Static<typeof GenericAlert>;

export const GenericBatch = Type.Object({ alerts: Type.Array(GenericAlert, { minItems: 1 }) });
export type GenericBatch = Static<typeof GenericBatch>;

/** Either one alert object or `{ "alerts": [ ... ] }`; `if` picks the shape so errors name the right field. */
export const GenericPayload = Type.Unsafe<GenericAlert | GenericBatch>({
  type: 'object',
  if: { type: 'object', required: ['alerts'] },
  then: GenericBatch,
  else: GenericAlert,
});
export type GenericPayload = GenericAlert | GenericBatch;
