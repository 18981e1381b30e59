import { makeEnvelope, type AlertReceived, type AlertSource, type Envelope } from '@alertbus/schemas';
import type { NormalisedAlert } from './alerts/result';

/** How many characters were cleaned in each part of a webhook request (see keepableJson in @alertbus/common). */
export interface RequestCleaning {
  /** In the group-level fields (everything but `alerts`), or in the whole body when it is one alert. */
  group: number;
  /** Per entry of `alerts`, when the body has that array. */
  alerts?: number[];
}

export interface EnvelopeContext {
  source: AlertSource;
  /** When ingest recorded the request; also the occurredAt of alerts whose source gave no usable time. */
  recordedAt: string;
  newId: () => string;
  /** The INGEST_TOKENS name the request was sent with. */
  authenticatedAs?: string;
  /** What the body parser cleaned, per alert. */
  cleaning?: RequestCleaning;
}

/** Characters cleaned in alert i: its own, plus the group's for the alert that carries the group (or is the whole body). */
function cleanedIn(cleaning: RequestCleaning | undefined, i: number): number {
  if (!cleaning) return 0;
  if (!cleaning.alerts) return cleaning.group;
  return (cleaning.alerts[i] ?? 0) + (i === 0 ? cleaning.group : 0);
}

/**
 * Wraps normalised alerts into AlertReceived envelopes; each received alert starts its own causal chain.
 * Every event names its request by the id of the request's first event, the one whose raw keeps the group.
 */
export function toAlertEnvelopes(alerts: readonly NormalisedAlert[], ctx: EnvelopeContext): Envelope<'AlertReceived'>[] {
  const ids = alerts.map(() => ctx.newId());
  return alerts.map((a, i) => {
    const sanitised = cleanedIn(ctx.cleaning, i);
    return makeEnvelope({
      id: ids[i]!,
      type: 'AlertReceived',
      alias: a.alias,
      occurredAt: a.occurredAt ?? ctx.recordedAt,
      recordedAt: ctx.recordedAt,
      source: `ingest/${ctx.source}`,
      data: withRequest(a.data, { id: ids[0]!, index: i, count: alerts.length }, ctx.authenticatedAs, sanitised),
    });
  });
}

/**
 * The alert's fields, then what ingest knows of its request and did to its text, then `raw` last, in that key order. Copied key by key:
 * `const { raw, ...fields } = data` and the spreads after it took about ten times as long, per alert.
 */
function withRequest(data: AlertReceived, request: NonNullable<AlertReceived['request']>, authenticatedAs: string | undefined, sanitised: number): AlertReceived {
  const out: Record<string, unknown> = {};
  for (const key in data) if (key !== 'raw' && key !== 'cut' && Object.prototype.hasOwnProperty.call(data, key)) out[key] = data[key as keyof AlertReceived];
  out.request = request;
  if (authenticatedAs !== undefined) out.authenticatedAs = authenticatedAs;
  if (sanitised > 0) out.sanitised = sanitised;
  if (data.cut !== undefined) out.cut = data.cut;
  out.raw = data.raw;
  return out as AlertReceived;
}
