/** The silence events the API writes, built from a request and the request's time (the API's clock, not the projection's). */
import { deriveId, formatDuration, makeEnvelope, parseDuration, type Envelope } from '@alertbus/schemas';
import { silenceAlias } from '@alertbus/projection';
import { checkMatchers } from './matchers';

export const SILENCE_EVENT_SOURCE = 'history-api';

export interface SilenceRequest {
  /** Empty, or none of them selecting, silences every alert: that needs `allowAll`. */
  matchers: string[];
  startsAt?: string;
  endsAt?: string;
  /** Instead of endsAt: how long from startsAt, e.g. `2h`. */
  duration?: string;
  comment: string;
  kind?: 'silence' | 'maintenance';
  /** The caller means to silence every alert. */
  allowAll?: boolean;
}

export interface SilenceContext {
  now: Date;
  silenceId: string;
  /** The name of the token that asked: a request does not say who it is. */
  createdBy: string;
  /** SILENCE_MAX_DURATION: the longest a silence may last from now. */
  maxDurationMs: number;
}

export type BuiltSilence = { ok: true; event: Envelope<'SilenceCreated'>; silencesEverything: boolean } | { ok: false; error: string };

const ALLOW_ALL_HINT = 'send "allowAll": true, with a comment saying why, to silence everything';

export function silenceCreatedEvent(req: SilenceRequest, ctx: SilenceContext): BuiltSilence {
  const { now } = ctx;
  const checked = checkMatchers(req.matchers);
  if (!checked.ok) return checked;
  if (req.comment.trim() === '') return { ok: false, error: 'comment is blank: say why the alerts are silenced' };
  if (checked.silencesEverything && req.allowAll !== true) {
    const error =
      req.matchers.length === 0
        ? `a silence without matchers silences every alert: ${ALLOW_ALL_HINT}`
        : `the matchers would silence every alert (each accepts a missing label or any value: ${req.matchers.join(', ')}): ${ALLOW_ALL_HINT}`;
    return { ok: false, error };
  }
  if ((req.endsAt === undefined) === (req.duration === undefined)) {
    return { ok: false, error: 'give exactly one of endsAt and duration' };
  }
  const startsMs = req.startsAt === undefined ? now.getTime() : Date.parse(req.startsAt);
  if (Number.isNaN(startsMs)) return { ok: false, error: `startsAt ${JSON.stringify(req.startsAt)} is not a date-time` };
  let endsMs: number;
  if (req.duration !== undefined) {
    const ms = parseDuration(req.duration);
    if (ms === null) return { ok: false, error: `duration ${JSON.stringify(req.duration)} is not a duration like 30m, 2h or 1h30m` };
    // A duration may be 0 elsewhere; a silence of no length would mute nothing, so it is refused here.
    if (ms === 0) return { ok: false, error: `duration ${JSON.stringify(req.duration)} is 0: a silence must last longer than that` };
    endsMs = startsMs + ms;
  } else {
    endsMs = Date.parse(req.endsAt!);
    if (Number.isNaN(endsMs)) return { ok: false, error: `endsAt ${JSON.stringify(req.endsAt)} is not a date-time` };
  }
  if (endsMs <= now.getTime()) return { ok: false, error: 'endsAt is in the past: the silence would never be active' };
  if (endsMs <= startsMs) return { ok: false, error: 'endsAt must be after startsAt' };
  // Measured from now: a silence that started long ago and ends soon mutes little more.
  const lasts = endsMs - Math.max(startsMs, now.getTime());
  if (lasts > ctx.maxDurationMs) {
    return {
      ok: false,
      error:
        `the silence would last ${formatDuration(lasts)}, longer than SILENCE_MAX_DURATION (${formatDuration(ctx.maxDurationMs)}): ` +
        'give a shorter duration or an earlier endsAt',
    };
  }
  const at = now.toISOString();
  return {
    ok: true,
    silencesEverything: checked.silencesEverything,
    event: makeEnvelope({
      id: deriveId('silence', ctx.silenceId, 'created'),
      type: 'SilenceCreated',
      alias: silenceAlias(ctx.silenceId),
      occurredAt: at,
      recordedAt: at,
      source: SILENCE_EVENT_SOURCE,
      data: {
        silenceId: ctx.silenceId,
        matchers: [...req.matchers],
        startsAt: new Date(startsMs).toISOString(),
        endsAt: new Date(endsMs).toISOString(),
        createdBy: ctx.createdBy,
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
