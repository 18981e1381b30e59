import type { AlertInput, RouterInput } from '../decider';
import { incidentIdOf } from '../core/incident-id';
import { firing, MINUTE, resolved } from './alerts';
import { buttonClick } from './slack';

/** The occurrence both late copies belong to: started at S1, ended at E1. */
export const S1 = '2025-03-01T09:50:00Z';
export const E1 = '2025-03-01T09:58:00Z';

/**
 * Two aliases whose resolves are kept before a backtest's window, and their late copies just inside it (times from
 * T0): `kept` is resolved before its firing ever came; `both` is resolved by a person (a button click), then by its
 * sender.
 */
export function lateCopiesAroundWindow(aliases: { kept: string; both: string }): { before: RouterInput[]; window: AlertInput[] } {
  const { kept, both } = aliases;
  const bothFirst = firing(both, { at: -10 * MINUTE, startsAt: S1 });
  return {
    before: [
      resolved(kept, { at: -MINUTE, startsAt: S1, endsAt: E1 }),
      bothFirst,
      buttonClick(both, incidentIdOf(both, 1, bothFirst.id), 'alertbus_resolve', { at: -3 * MINUTE }),
      resolved(both, { at: -MINUTE, startsAt: S1, endsAt: E1 }),
    ],
    window: [firing(kept, { at: 1_000, startsAt: S1 }), firing(both, { at: 2_000, n: 1, startsAt: S1 })],
  };
}
