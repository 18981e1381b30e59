import type { Neighbours } from './neighbours';
import type { SilenceLookup } from './silences';

/**
 * What a decision may know beyond its own alias: the silences and the other aliases' incidents. Both are
 * passed in (no I/O), and both are consulted by event time only, so a replay decides the same way.
 */
export interface DecisionContext {
  silences?: SilenceLookup;
  /** Other aliases' states: what inhibition and storm control look at. */
  neighbours?: Neighbours;
  /**
   * ROUTER_STATE_RETENTION: a state expired by the input's time (see core/expiry) counts as absent, so the
   * decision is the same whether or not it has been evicted yet. Unset: states never expire.
   */
  retentionMs?: number;
  /**
   * With several router instances: how far router.shared.v1 (the other instances' incidents, in `neighbours`) had
   * been read when this was decided. Recorded on the decisions that consult neighbours, so a replay can rebuild them.
   */
  sharedOffset?: string;
  /** SILENCE_MAX_DURATION: the longest silence a slash command may set (default SLASH_SILENCE_MAX_MS, the history API's default). */
  silenceMaxMs?: number;
}
