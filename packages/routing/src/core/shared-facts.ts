import type { AliasState } from '@alertbus/schemas';
import { StateIndex } from './neighbours';
import type { SuppressedFiring } from './suppressed-firing';

/**
 * One record of router.shared.v1: the latest state of an incident, or of a firing kept as an inhibitor
 * (SuppressedFiring), as the instance that decided it committed it (null: the alias was forgotten), with the
 * input partition its alias belongs to.
 */
export interface SharedFact {
  offset: bigint;
  partition: number;
  alias: string;
  state: AliasState | SuppressedFiring | null;
}

/**
 * The other instances' incidents as a decision saw them: router.shared.v1 folded from its start up to `upTo`
 * (exclusive; the `shared.offset` a decision records). An instance's own committed states are on the topic
 * too (written in the same transaction as its decisions), so this plus the decision's own batch is everything
 * its neighbours held, and a replay that folds the same prefix decides the same.
 */
export function sharedNeighbours(facts: Iterable<SharedFact>, upTo: bigint, index: StateIndex = new StateIndex()): StateIndex {
  for (const f of facts) {
    if (f.offset >= upTo) continue;
    index.put(f.alias, f.state ?? undefined);
  }
  return index;
}
