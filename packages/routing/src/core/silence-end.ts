import { makeEnvelope, type Envelope } from '@alertbus/schemas';
import { decideAlert, type ResolvedAlias } from './alerts';
import type { DecisionContext } from './context';
import type { DeciderState } from './evolve';
import { inForce } from './silences';
import { keptFiringAt, staleAt, type SuppressedFiring } from './suppressed-firing';
import type { CompiledRules } from '../rules/types';
import type { Outputs } from './outputs';

export type SilenceEndInput = Envelope<'SilenceEndedTick'>;

/**
 * A tick (router.ticks.v1, keyed by the alias): the silence it names ended, by its endsAt or a SilenceExpired, by the
 * tick's time. When the alias keeps a firing that this silence suppressed (a SuppressedFiring naming it, not resolved
 * since and not expired: its resolve or ROUTER_STATE_RETENTION removed it otherwise; nor stale: the sender's own endsAt
 * of it, when it gave one, not passed by the tick), the firing is decided again at
 * the tick's time, as if its sender had sent it again: another silence in force, an inhibition or a drop rule suppress
 * it; otherwise it opens an incident and pages, as Alertmanager notifies at its group's next flush after a silence
 * ends. Nothing when the alias keeps no such firing, or the silence is still in force at the tick's time (a clock
 * ahead of the silence's own times): so a tick redelivered, or written twice, pages nothing twice (after the first the
 * alias holds the incident, or a firing kept under the other silence). Pure: the tick's recordedAt is the time.
 */
export function decideSilenceEnd(
  input: SilenceEndInput,
  state: DeciderState,
  rules: CompiledRules,
  ctx: DecisionContext,
  resolvedAlias: ResolvedAlias | undefined,
  suppressed: SuppressedFiring | undefined,
): { events: Outputs['events']; state: DeciderState | ResolvedAlias | SuppressedFiring } | undefined {
  const { silenceId } = input.data;
  if (suppressed === undefined || suppressed.reason !== 'silenced' || suppressed.silenceId !== silenceId) return undefined;
  const atMs = Date.parse(input.recordedAt);
  const silence = ctx.silences?.get?.(silenceId);
  if (silence !== undefined && inForce(silence, atMs)) return undefined;
  if (staleAt(suppressed, atMs)) return undefined;
  return decideAlert(keptFiringAt(input, suppressed), state, rules, ctx, resolvedAlias, suppressed);
}

/** A tick for the alias's firing kept under `silenceId`, at `recordedAt` (the wall clock of the instance that writes it; `id` unique). */
export function silenceEndTick(alias: string, silenceId: string, recordedAt: string, id: string, source = 'router/ticker'): SilenceEndInput {
  return makeEnvelope({ id, type: 'SilenceEndedTick', alias, occurredAt: recordedAt, recordedAt, source, data: { silenceId } });
}
