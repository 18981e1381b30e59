import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** The 202 answer of the webhooks. */
export const AcceptedBody = Type.Object({
  accepted: Type.Integer(),
  ids: Type.Array(Type.String()),
  aliases: Type.Array(Type.String()),
});
export type AcceptedBody = Static<typeof AcceptedBody>;

/** The one error body of every failure: `{ "error": "<kind>", "message": "..." }`. */
export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });
export type ErrorBody = Static<typeof ErrorBody>;

export const webhookResponses: Record<string, TSchema> = {
  202: AcceptedBody,
  '4xx': ErrorBody,
  '5xx': ErrorBody,
};

/** The answer to every accepted Slack request (Slack ignores the body; people debugging do not). */
export const SlackAcceptedBody = Type.Object({
  challenge: Type.Optional(Type.String()),
  accepted: Type.Optional(Type.Integer()),
  ids: Type.Optional(Type.Array(Type.String())),
  aliases: Type.Optional(Type.Array(Type.String())),
  ignored: Type.Optional(Type.String()),
});

export type SlackAcceptedBody = Static<typeof SlackAcceptedBody>;

export const slackResponses: Record<string, TSchema> = { 200: SlackAcceptedBody, '4xx': ErrorBody, '5xx': ErrorBody };
