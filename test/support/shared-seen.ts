import type { AnyEnvelope } from '@alertbus/schemas';

/**
 * A live router's decisions without `shared` (how far it had read router.shared.v1, recorded so a replay across
 * instances can rebuild what it saw): a one-router replay has no such position, and everything else must agree.
 */
export function withoutSharedSeen(events: readonly AnyEnvelope[]): AnyEnvelope[] {
  return events.map((e) => {
    const data = e.data as { shared?: unknown };
    if (data.shared === undefined) return e;
    const { shared: _shared, ...rest } = data;
    return { ...e, data: rest } as AnyEnvelope;
  });
}
