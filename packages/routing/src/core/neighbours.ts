import type { AliasState } from '@alertbus/schemas';
import { liveState } from './expiry';

/**
 * What a decision may know about other aliases: the open incidents (for inhibition) and the incidents of
 * a Slack channel (for storm control). Results come in no particular order; the decider sorts them.
 */
export interface Neighbours {
  open(): Iterable<AliasState>;
  inChannel(channel: string): Iterable<AliasState>;
}

export const NO_NEIGHBOURS: Neighbours = { open: () => [], inChannel: () => [] };

/** The Slack channel an incident was meant for: its thread's, or the channel of the storm summary that lists it. */
export const targetChannel = (s: AliasState): string | undefined => s.slackChannel ?? s.storm?.channel;

const isOpen = (s: AliasState) => s.status !== 'resolved';

/** Alias states indexed by openness and by channel, so inhibition and storm checks do not scan every alias ever seen. */
export class StateIndex implements Neighbours {
  private readonly states = new Map<string, AliasState>();
  private readonly openStates = new Map<string, AliasState>();
  private readonly byChannel = new Map<string, Map<string, AliasState>>();

  get size(): number {
    return this.states.size;
  }

  get(alias: string): AliasState | undefined {
    return this.states.get(alias);
  }

  values(): IterableIterator<AliasState> {
    return this.states.values();
  }

  set(state: AliasState): void {
    this.delete(state.alias);
    this.states.set(state.alias, state);
    if (isOpen(state)) this.openStates.set(state.alias, state);
    const channel = targetChannel(state);
    if (channel !== undefined) {
      let m = this.byChannel.get(channel);
      if (!m) this.byChannel.set(channel, (m = new Map()));
      m.set(state.alias, state);
    }
  }

  delete(alias: string): void {
    const old = this.states.get(alias);
    if (!old) return;
    this.states.delete(alias);
    this.openStates.delete(alias);
    const channel = targetChannel(old);
    if (channel !== undefined) this.byChannel.get(channel)?.delete(alias);
  }

  open(): Iterable<AliasState> {
    return this.openStates.values();
  }

  inChannel(channel: string): Iterable<AliasState> {
    return this.byChannel.get(channel)?.values() ?? [];
  }
}

/** A base view with a batch's not-yet-committed states laid over it (staged states replace the base's). */
export class StagedNeighbours implements Neighbours {
  constructor(
    private readonly base: Neighbours,
    private readonly staged: ReadonlyMap<string, AliasState | undefined>,
  ) {}

  *open(): Iterable<AliasState> {
    for (const s of this.base.open()) if (!this.staged.has(s.alias)) yield s;
    for (const s of this.staged.values()) if (s && isOpen(s)) yield s;
  }

  *inChannel(channel: string): Iterable<AliasState> {
    for (const s of this.base.inChannel(channel)) if (!this.staged.has(s.alias)) yield s;
    for (const s of this.staged.values()) if (s && targetChannel(s) === channel) yield s;
  }
}

/** The neighbours a decision at `atMs` sees: expired incidents left out, evicted or not. */
export function liveNeighbours(base: Neighbours, atMs: number, retentionMs: number): Neighbours {
  return {
    open: () => base.open(),
    *inChannel(channel: string) {
      for (const s of base.inChannel(channel)) if (liveState(s, atMs, retentionMs)) yield s;
    },
  };
}
