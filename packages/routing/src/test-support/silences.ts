/** Silences as the history API writes them, for the router's tests (times in ms after T0). */
import { deriveId, makeEnvelope, type Envelope, type SilenceCreated } from '@alertbus/schemas';
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
