import { Type, type Static } from '@sinclair/typebox';
import { AlertStatusField, StringMap } from './common';

/**
 * The fields of Alertmanager's webhook (version 4) that ingest reads; every other field is accepted and
 * kept in `raw`, so a newer Alertmanager that adds fields is not rejected.
 */
export const AlertmanagerAlertFields = {
  status: Type.Optional(AlertStatusField),
  labels: StringMap,
  annotations: Type.Optional(StringMap),
  startsAt: Type.Optional(Type.String()),
  endsAt: Type.Optional(Type.String()),
  generatorURL: Type.Optional(Type.String()),
  fingerprint: Type.Optional(Type.String({ maxLength: 256 })),
};

export const AlertmanagerAlert = Type.Object(AlertmanagerAlertFields);
export type AlertmanagerAlert = Static<typeof AlertmanagerAlert>;

export const AlertmanagerGroupFields = {
  status: Type.Optional(AlertStatusField),
  groupKey: Type.Optional(Type.String()),
  externalURL: Type.Optional(Type.String()),
};

export const AlertmanagerPayload = Type.Object({
  ...AlertmanagerGroupFields,
  alerts: Type.Array(AlertmanagerAlert, { minItems: 1 }),
});
export type AlertmanagerPayload = Static<typeof AlertmanagerPayload>;
