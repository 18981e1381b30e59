import type { AlertReceived } from '@alertbus/schemas';

/** One alert of a webhook, normalised: the event data plus what the envelope needs. */
export interface NormalisedAlert {
  alias: string;
  /** When it happened at the source; undefined when the source did not say (the caller uses recordedAt). */
  occurredAt?: string;
  data: AlertReceived;
}

/** A normaliser never throws on input: a payload it cannot use is an error naming the field. */
export type NormaliseResult =
  | { ok: true; alerts: NormalisedAlert[] }
  | { ok: false; field: string; message: string };
