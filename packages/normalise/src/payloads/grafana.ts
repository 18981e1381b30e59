import { Type, type Static } from '@sinclair/typebox';
import { AlertmanagerAlertFields, AlertmanagerGroupFields } from './alertmanager';

/** Grafana's `values` is a map of query refId → number, or null when the rule had no values. */
const Values = Type.Unsafe<Record<string, number | null> | null>({
  type: ['object', 'null'],
  additionalProperties: { type: ['number', 'null'] },
});

/** Grafana unified alerting's webhook: Alertmanager's shape plus per-alert values and URLs. */
export const GrafanaAlert = Type.Object({
  ...AlertmanagerAlertFields,
  values: Type.Optional(Values),
  valueString: Type.Optional(Type.String()),
  silenceURL: Type.Optional(Type.String()),
  dashboardURL: Type.Optional(Type.String()),
  panelURL: Type.Optional(Type.String()),
  imageURL: Type.Optional(Type.String()),
});
export type GrafanaAlert = Static<typeof GrafanaAlert>;

export const GrafanaPayload = Type.Object({
  ...AlertmanagerGroupFields,
  title: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
  alerts: Type.Array(GrafanaAlert, { minItems: 1 }),
});
export type GrafanaPayload = Static<typeof GrafanaPayload>;
