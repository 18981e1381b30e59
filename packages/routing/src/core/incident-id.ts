import { deriveId } from '@alertbus/schemas';

/**
 * An incident's id, from its alias, its occurrence and the input that opened it. The input makes it unique
 * even when an alias's state was evicted (ROUTER_STATE_RETENTION) and its occurrences are counted from 1
 * again; it is still derived, so a replay of the same inputs gives the same ids.
 */
export function incidentIdOf(alias: string, occurrence: number, openingInputId: string): string {
  return deriveId('incident', alias, occurrence, openingInputId);
}
