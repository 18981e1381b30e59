import type { AnyEnvelope } from '@alertbus/schemas';

/**
 * Whether a decided batch (its events, and how many records it dead-lettered) writes nothing but state records
 * (router.state.v1, router.shared.v1), so its transaction may wait to share the next one: a thread link read back, which
 * records the thread's key. A posted root's thread link itself goes at once: letting it wait too made the whole stack
 * slower at 20 alerts/s in four alternated pairs (bench/README.md, twelfth run).
 */
export const batchMayWait = (events: readonly AnyEnvelope[], deadLetters: number): boolean => deadLetters === 0 && events.length === 0;
