/** Whether a silence is pending, active or expired at a given instant: asked at read time, never stored. */
import type { SilenceRow } from '../projection/types';

export type SilenceState = 'pending' | 'active' | 'expired';

/** Ends at endsAt, or earlier when it was expired by hand. */
export function effectiveEnd(s: Pick<SilenceRow, 'endsAt' | 'expiredAt'>): number {
  const end = Date.parse(s.endsAt);
  return s.expiredAt === null ? end : Math.min(end, Date.parse(s.expiredAt));
}

export function silenceState(s: Pick<SilenceRow, 'startsAt' | 'endsAt' | 'expiredAt'>, nowMs: number): SilenceState {
  if (effectiveEnd(s) <= nowMs) return 'expired';
  return Date.parse(s.startsAt) > nowMs ? 'pending' : 'active';
}
