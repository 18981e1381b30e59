/**
 * The parts of Slack's Events API and interactivity payloads that ingest reads (protocols.md §1, §3). Every
 * field is optional: Slack's payloads vary by event, subtype and age, and unknown fields are kept in `raw`.
 */
import { Type, type Static } from '@sinclair/typebox';

export interface SlackMessageWire {
  type?: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  channel?: string;
  channel_type?: string;
  event_ts?: string;
  edited?: { user?: string; ts?: string };
}

export interface SlackInnerEventWire extends SlackMessageWire {
  message?: SlackMessageWire;
  previous_message?: SlackMessageWire;
  deleted_ts?: string;
  hidden?: boolean;
}

/** An Events API request: `event_callback` (normalised), or `url_verification`, `app_rate_limited`… (answered by ingest). */
export interface SlackEventCallbackWire {
  type: string;
  /** url_verification's. */
  challenge?: string;
  /** app_rate_limited's: the minute (unix seconds) Slack stopped sending events. */
  minute_rate_limited?: unknown;
  team_id?: string;
  api_app_id?: string;
  event_id?: string;
  event_time?: number;
  event?: SlackInnerEventWire;
  authorizations?: Array<{ team_id?: string; user_id?: string }>;
}

export interface SlackBlockActionWire {
  type: 'block_actions';
  team?: { id?: string; domain?: string } | null;
  user?: { id?: string; username?: string; name?: string; team_id?: string };
  api_app_id?: string;
  container?: { type?: string; message_ts?: string; channel_id?: string; thread_ts?: string };
  channel?: { id?: string; name?: string };
  message?: { ts?: string; thread_ts?: string };
  response_url?: string;
  trigger_id?: string;
  actions?: Array<{
    action_id?: string;
    block_id?: string;
    type?: string;
    value?: string;
    action_ts?: string;
  }>;
}

/**
 * What the Events API endpoint accepts once the signature is checked: any JSON object with a `type`. The schema
 * checks the envelope's fields; its type is the wire type, whose other fields are read defensively.
 */
export const SlackEventsBody = Type.Unsafe<SlackEventCallbackWire>(
  Type.Object(
    {
      type: Type.String({ minLength: 1 }),
      challenge: Type.Optional(Type.String()),
      team_id: Type.Optional(Type.String()),
      event_id: Type.Optional(Type.String()),
      event_time: Type.Optional(Type.Number()),
      event: Type.Optional(Type.Object({}, { additionalProperties: true })),
    },
    { additionalProperties: true },
  ),
);
export type SlackEventsBody = SlackEventCallbackWire;

/** The JSON of the interactivity `payload` form field. */
export const SlackInteractionBody = Type.Object(
  {
    type: Type.String({ minLength: 1 }),
    actions: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
  },
  { additionalProperties: true },
);
export type SlackInteractionBody = Static<typeof SlackInteractionBody>;

/**
 * A Slack body without its top-level `token`: the legacy verification token is a secret (requests are checked by their
 * signature), and `raw` is kept on Kafka for as long as the topic, so it is not written there.
 */
export function withoutVerificationToken<T extends object>(body: T): T {
  if (!Object.prototype.hasOwnProperty.call(body, 'token')) return body;
  const { token: _token, ...rest } = body as T & { token?: unknown };
  return rest as T;
}
