import { Type, type Static } from '@sinclair/typebox';
import { AlertSource, AlertStatus, AlertValues, Labels, Link, Severity } from '../common';
import { Id, Timestamp, Sanitised } from './shared';

// ---------------------------------------------------------------- received (ingest → router)

/** One text of an alert that ingest cut to its bound, or its raw payload that it cut or left out to fit one Kafka record. */
export const TextCut = Type.Object(
  {
    field: Type.String({
      minLength: 1,
      description: 'Which text: "title", "description", "annotations.<name>", "labels.<name>", or "raw".',
    }),
    characters: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'How many characters (code points) were cut off its end, where the text now ends with "…[cut: N characters]"; ' +
          'for raw, off its strings in all.',
      }),
    ),
    omittedBytes: Type.Optional(
      Type.Integer({ minimum: 1, description: 'raw only: left out whole (raw is then {"omitted": "…"}); its size as JSON.' }),
    ),
  },
  { additionalProperties: false },
);
export type TextCut = Static<typeof TextCut>;

export const AlertReceived = Type.Object(
  {
    source: AlertSource,
    status: AlertStatus,
    fingerprint: Type.Optional(Type.String()),
    title: Type.String({ minLength: 1 }),
    severity: Severity,
    description: Type.Optional(Type.String()),
    labels: Labels,
    annotations: Labels,
    startsAt: Type.Optional(Timestamp),
    endsAt: Type.Optional(Timestamp),
    links: Type.Array(Link),
    groupKey: Type.Optional(Type.String()),
    values: Type.Optional(AlertValues),
    request: Type.Optional(
      Type.Object(
        {
          id: Id,
          index: Type.Integer({ minimum: 0, description: 'Position of this alert in the request.' }),
          count: Type.Integer({ minimum: 1, description: 'How many alerts the request carried.' }),
        },
        {
          additionalProperties: false,
          description:
            'The webhook request this alert came in. id: the event id of the request\'s first alert, the same on every alert of the request; that alert\'s ' +
            'raw.group keeps the request\'s group-level fields, once.',
        },
      ),
    ),
    authenticatedAs: Type.Optional(
      Type.String({ minLength: 1, description: 'Name of the INGEST_TOKENS entry the request was sent with; absent otherwise.' }),
    ),
    sanitised: Type.Optional(Sanitised),
    cut: Type.Optional(
      Type.Array(TextCut, {
        minItems: 1,
        description:
          'The texts ingest cut to their bounds (title 3,000 characters, description and each annotation 15,000, each label ' +
          'value 2,000), or shorter, and raw cut or left out, so that the alert fits one Kafka record; absent when none.',
      }),
    ),
    raw: Type.Unknown({
      description:
        'The alert as received (text cleaned as `sanitised` says). The group-level fields of its request (everything but ' +
        '`alerts`) are under raw.group of the request\'s first alert only (request.index 0); before requests were recorded, ' +
        'every alert carried them.',
    }),
  },
  { additionalProperties: false },
);
export type AlertReceived = Static<typeof AlertReceived>;
