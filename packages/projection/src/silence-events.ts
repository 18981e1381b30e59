/**
 * What silences.v1 does to the silences table: the facts only; whether one is active is computed when asked.
 * Every silence event also prunes the silences that ended a retention period before it, by the event's time,
 * so a rebuild prunes exactly what the live projection pruned.
 */
import type { Envelope } from '@alertbus/schemas';
import { pruneBefore } from './silence-state';
import type { SilenceChange } from './types';

export type SilenceEventType = 'SilenceCreated' | 'SilenceExpired';

export const SILENCE_EVENT_TYPES: ReadonlySet<string> = new Set<SilenceEventType>(['SilenceCreated', 'SilenceExpired']);

export function silenceChanges(event: Envelope<SilenceEventType>): SilenceChange[] {
  const prune: SilenceChange = { kind: 'prune-silences', endedBefore: pruneBefore(Date.parse(event.recordedAt)) };
  if (event.type === 'SilenceCreated') {
    const d = event.data;
    return [
      prune,
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
  return [prune, { kind: 'expire-silence', silenceId: d.silenceId, at: d.expiredAt, by: d.expiredBy }];
}

/** The silence events' alias (their Kafka key): silences belong to no incident. */
export const silenceAlias = (silenceId: string): string => `silence:${silenceId}`;
