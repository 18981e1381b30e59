/** Silences as the history API writes them, for the router's tests (times in ms after T0). */
import { deriveId, makeEnvelope, type AnyEnvelope, type Envelope, type SilenceCreated } from '@alertbus/schemas';
import type { Replayer } from '../core/replay';
import type { SilenceBook, SilenceEvent } from '../core/silences';
import type { RouterInput } from '../decider';
import { T0 } from './alerts';

const iso = (at: number) => new Date(T0 + at).toISOString();

/** A SilenceCreated recorded at `created`, applying from `starts` to `ends` (team="db" unless `extra` says otherwise). */
export function silence(id: string, created: number, starts: number, ends: number, extra: Partial<SilenceCreated> = {}): Envelope<'SilenceCreated'> {
  return makeEnvelope({
    id: deriveId('silence', id, 'created'),
    type: 'SilenceCreated',
    alias: `silence:${id}`,
    occurredAt: iso(created),
    recordedAt: iso(created),
    source: 'history-api',
    data: { silenceId: id, matchers: ['team="db"'], startsAt: iso(starts), endsAt: iso(ends), createdBy: 'ana', comment: 'db maintenance', kind: 'silence', ...extra },
  });
}

/** A SilenceExpired (ended early) at `at`. */
export function expired(id: string, at: number): Envelope<'SilenceExpired'> {
  return makeEnvelope({
    id: deriveId('silence', id, 'expired'),
    type: 'SilenceExpired',
    alias: `silence:${id}`,
    occurredAt: iso(at),
    recordedAt: iso(at),
    source: 'history-api',
    data: { silenceId: id, expiredBy: 'bo', expiredAt: iso(at) },
  });
}

/** A scenario's step: a silence (applied to the book when it comes) or an input the replayer decides. */
export type Step = SilenceEvent | RouterInput;

/**
 * Decides `steps` in order with `replayer`, applying each silence to `book` before the inputs recorded after it, as the
 * router reads them: the events of each input, in order (nothing for a silence).
 */
export function runSteps(replayer: Replayer, book: SilenceBook, steps: Step[]): AnyEnvelope[][] {
  const out: AnyEnvelope[][] = [];
  for (const s of steps) {
    if (s.type === 'SilenceCreated' || s.type === 'SilenceExpired') book.apply(s as SilenceEvent);
    else out.push(replayer.decide(s as RouterInput).events);
  }
  return out;
}
