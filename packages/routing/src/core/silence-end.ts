import { makeEnvelope, type AlertSource, type Envelope } from '@alertbus/schemas';
import { decideAlert, type ResolvedAlias } from './alerts';
import type { DecisionContext } from './context';
import type { DeciderState } from './evolve';
import { inForce } from './silences';
import type { SuppressedFiring } from './suppressed-firing';
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
  // Stale: its sender said when it would end (a generic webhook may; Alertmanager never does for a firing) and sent no
  // newer firing by then. Alertmanager itself would count it resolved.
  if (suppressed.endsAt !== undefined && Date.parse(suppressed.endsAt) <= atMs) return undefined;
  return decideAlert(firingOf(input, suppressed), state, rules, ctx, resolvedAlias, suppressed);
}

/** The kept firing as an alert received at the tick: its id is the tick's, so the decision's event ids are its own. */
function firingOf(input: SilenceEndInput, kept: SuppressedFiring): Envelope<'AlertReceived'> {
  return makeEnvelope({
    id: input.id,
    type: 'AlertReceived',
    alias: input.alias,
    occurredAt: input.recordedAt,
    recordedAt: input.recordedAt,
    source: input.source,
    correlationId: input.correlationId,
    data: {
      source: kept.source as AlertSource,
      status: 'firing',
      title: kept.title,
      severity: kept.severity,
      labels: kept.labels,
      ...(kept.description !== undefined ? { description: kept.description } : {}),
      ...(kept.values !== undefined ? { values: kept.values } : {}),
      annotations: {},
      ...(kept.startsAt !== undefined ? { startsAt: kept.startsAt } : {}),
      ...(kept.endsAt !== undefined ? { endsAt: kept.endsAt } : {}),
      links: kept.links ?? [],
      raw: null,
    },
  });
}

/** A tick for the alias's firing kept under `silenceId`, at `recordedAt` (the wall clock of the instance that writes it; `id` unique). */
export function silenceEndTick(alias: string, silenceId: string, recordedAt: string, id: string, source = 'router/ticker'): SilenceEndInput {
  return makeEnvelope({ id, type: 'SilenceEndedTick', alias, occurredAt: recordedAt, recordedAt, source, data: { silenceId } });
}
