import { Type, type Static } from '@sinclair/typebox';
import { AlertSource, AnyKey, AlertStatus, Labels, Link, Severity } from '../common';
import { Id, Timestamp, Sanitised } from './shared';

// ---------------------------------------------------------------- received (ingest → router)

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
    values: Type.Optional(Type.Record(AnyKey, Type.Union([Type.Number(), Type.Null()]))),
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
