import { makeEnvelope, type AlertSource, type Envelope } from '@alertbus/schemas';
import type { NormalisedAlert } from './normalise/result';

export interface EnvelopeContext {
  source: AlertSource;
  /** When ingest recorded the request; also the occurredAt of alerts whose source gave no usable time. */
  recordedAt: string;
  newId: () => string;
}

/** Wraps normalised alerts into AlertReceived envelopes; each received alert starts its own causal chain. */
export function toAlertEnvelopes(alerts: readonly NormalisedAlert[], ctx: EnvelopeContext): Envelope<'AlertReceived'>[] {
  return alerts.map((a) =>
    makeEnvelope({
      id: ctx.newId(),
      type: 'AlertReceived',
      alias: a.alias,
      occurredAt: a.occurredAt ?? ctx.recordedAt,
      recordedAt: ctx.recordedAt,
      source: `ingest/${ctx.source}`,
      data: a.data,
    }),
  );
}
