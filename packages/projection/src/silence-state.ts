/** Whether a silence is pending, active or expired at a given instant: asked at read time, never stored. */
import type { SilenceRow } from './types';

export type SilenceState = 'pending' | 'active' | 'expired';

/**
 * How long an ended silence stays listed (state=expired) and kept, as Alertmanager keeps them (its default is
 * 5 days). A constant, not a setting: the projection prunes by it, and a rebuild must prune exactly as live did.
 */
export const EXPIRED_SILENCE_RETENTION_MS = 7 * 86_400_000;

/** The instant before which an ended silence is gone, as seen at `atMs`. */
export const pruneBefore = (atMs: number): string => new Date(atMs - EXPIRED_SILENCE_RETENTION_MS).toISOString();

/** Ends at endsAt, or earlier when it was expired by hand. */
export function effectiveEnd(s: Pick<SilenceRow, 'endsAt' | 'expiredAt'>): number {
  const end = Date.parse(s.endsAt);
  return s.expiredAt === null ? end : Math.min(end, Date.parse(s.expiredAt));
}

export function silenceState(s: Pick<SilenceRow, 'startsAt' | 'endsAt' | 'expiredAt'>, nowMs: number): SilenceState {
  if (effectiveEnd(s) <= nowMs) return 'expired';
  return Date.parse(s.startsAt) > nowMs ? 'pending' : 'active';
}
