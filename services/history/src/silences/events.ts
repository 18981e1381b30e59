/** The silence events the API writes, built from a request and the request's time (the API's clock, not the projection's). */
import { deriveId, makeEnvelope, type Envelope } from '@alertbus/schemas';
import { silenceAlias } from '../projection/silence-events';
import { parseDuration } from './duration';
import { checkMatchers } from './matchers';

export const SILENCE_EVENT_SOURCE = 'history-api';

export interface SilenceRequest {
  matchers: string[];
  startsAt?: string;
  endsAt?: string;
  /** Instead of endsAt: how long from startsAt, e.g. `2h`. */
  duration?: string;
  createdBy: string;
  comment: string;
  kind?: 'silence' | 'maintenance';
}

export type Built<T> = { ok: true; event: T } | { ok: false; error: string };

export function silenceCreatedEvent(req: SilenceRequest, now: Date, silenceId: string): Built<Envelope<'SilenceCreated'>> {
  const checked = checkMatchers(req.matchers);
  if (!checked.ok) return checked;
  if ((req.endsAt === undefined) === (req.duration === undefined)) {
    return { ok: false, error: 'give exactly one of endsAt and duration' };
  }
  const startsMs = req.startsAt === undefined ? now.getTime() : Date.parse(req.startsAt);
  if (Number.isNaN(startsMs)) return { ok: false, error: `startsAt ${JSON.stringify(req.startsAt)} is not a date-time` };
  let endsMs: number;
  if (req.duration !== undefined) {
    const ms = parseDuration(req.duration);
    if (ms === null) return { ok: false, error: `duration ${JSON.stringify(req.duration)} is not a duration like 30m, 2h or 1h30m` };
    endsMs = startsMs + ms;
  } else {
    endsMs = Date.parse(req.endsAt!);
    if (Number.isNaN(endsMs)) return { ok: false, error: `endsAt ${JSON.stringify(req.endsAt)} is not a date-time` };
  }
  if (endsMs <= now.getTime()) return { ok: false, error: 'endsAt is in the past: the silence would never be active' };
  if (endsMs <= startsMs) return { ok: false, error: 'endsAt must be after startsAt' };
  const at = now.toISOString();
  return {
    ok: true,
    event: makeEnvelope({
      id: deriveId('silence', silenceId, 'created'),
      type: 'SilenceCreated',
      alias: silenceAlias(silenceId),
      occurredAt: at,
      recordedAt: at,
      source: SILENCE_EVENT_SOURCE,
      data: {
        silenceId,
        matchers: [...req.matchers],
        startsAt: new Date(startsMs).toISOString(),
        endsAt: new Date(endsMs).toISOString(),
        createdBy: req.createdBy,
        comment: req.comment,
        kind: req.kind ?? 'silence',
      },
    }),
  };
}

/** One id per silence: expiring twice writes the same event, which the projection applies once. */
export function silenceExpiredEvent(silenceId: string, by: string, now: Date): Envelope<'SilenceExpired'> {
  const at = now.toISOString();
  return makeEnvelope({
    id: deriveId('silence', silenceId, 'expired'),
    type: 'SilenceExpired',
    alias: silenceAlias(silenceId),
    occurredAt: at,
    recordedAt: at,
    source: SILENCE_EVENT_SOURCE,
    data: { silenceId, expiredBy: by, expiredAt: at },
  });
}
