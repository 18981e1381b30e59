import type { AnyEnvelope } from '@alertbus/schemas';

/**
 * What a batch may write besides its state records (router.state.v1, router.shared.v1) and still wait for company
 * (`QUIET_COMMIT_DELAY_MS`): a thread link is the router's note to itself, read back to record the thread's key, and
 * needed only once someone types in the new thread.
 */
const MAY_WAIT_EVENTS: ReadonlySet<string> = new Set(['SlackThreadLinked']);

/**
 * Whether a decided batch (its events, and how many records it dead-lettered) writes nothing a user or another service
 * waits for, so its transaction may wait to share the next one: a posted root's thread link, the link's state, nothing.
 */
export const batchMayWait = (events: readonly AnyEnvelope[], deadLetters: number): boolean =>
  deadLetters === 0 && events.every((e) => MAY_WAIT_EVENTS.has(e.type));
