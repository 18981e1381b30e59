/** What silences.v1 does to the silences table: the facts only; whether one is active is computed when asked. */
import type { Envelope } from '@alertbus/schemas';
import type { SilenceChange } from './types';

export type SilenceEventType = 'SilenceCreated' | 'SilenceExpired';

export const SILENCE_EVENT_TYPES: ReadonlySet<string> = new Set<SilenceEventType>(['SilenceCreated', 'SilenceExpired']);

export function silenceChanges(event: Envelope<SilenceEventType>): SilenceChange[] {
  if (event.type === 'SilenceCreated') {
    const d = event.data;
    return [
      {
        kind: 'create-silence',
        row: {
          silenceId: d.silenceId,
          kind: d.kind,
          matchers: [...d.matchers],
          startsAt: d.startsAt,
          endsAt: d.endsAt,
          createdBy: d.createdBy,
          comment: d.comment,
          createdAt: event.recordedAt,
          expiredAt: null,
          expiredBy: null,
        },
      },
    ];
  }
  const d = event.data;
  return [{ kind: 'expire-silence', silenceId: d.silenceId, at: d.expiredAt, by: d.expiredBy }];
}

/** The silence events' alias (their Kafka key): silences belong to no incident. */
export const silenceAlias = (silenceId: string): string => `silence:${silenceId}`;
