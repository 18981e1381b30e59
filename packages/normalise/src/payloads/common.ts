import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AnyKey } from '@alertbus/schemas';

/** Label and annotation maps: name → string value, as every monitoring source sends them, whatever the name holds. */
export const StringMap = Type.Record(AnyKey, Type.String());

/** An enum (not a union of literals) so a wrong value is reported as "must be equal to one of the allowed values". */
export const AlertStatusField = Type.Unsafe<'firing' | 'resolved'>({ type: 'string', enum: ['firing', 'resolved'] });

/** The 202 answer and the uniform error body, declared for every webhook route. */
export const AcceptedBody = Type.Object({
  accepted: Type.Integer(),
  ids: Type.Array(Type.String()),
  aliases: Type.Array(Type.String()),
});

export type AcceptedBody = Static<typeof AcceptedBody>;

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });
export type ErrorBody = Static<typeof ErrorBody>;

export const webhookResponses: Record<string, TSchema> = {
  202: AcceptedBody,
  '4xx': ErrorBody,
  '5xx': ErrorBody,
};
