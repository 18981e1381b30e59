import type { AliasState, SlackKeyState } from '@alertbus/schemas';
import type { CompiledRules } from '../rules/types';
import { decide, isIncidentState, stateKey, type Decision, type RouterInput, type RouterState } from '../decider';
import { EVICTION_GRACE_MS, ExpiryQueue, expiresAt } from './expiry';
import { StateIndex } from './neighbours';
import { isSuppressedFiring } from './suppressed-firing';
import type { SilenceLookup } from './silences';
import type { DecisionContext } from './context';

export interface ReplayerOptions {
  silences?: SilenceLookup;
  states?: StateIndex;
  /** The Slack bookkeeping and kept resolves to start from, by key (a backtest's, folded from before its window). */
  keys?: ReadonlyMap<string, SlackKeyState>;
  /** ROUTER_STATE_RETENTION: expired states count as absent, and are evicted as the router evicts them. */
  retentionMs?: number;
  /** Evict expired states (default true); false keeps them, to show that evicting changes no decision. */
  evict?: boolean;
}

/**
 * Decides a stream of inputs in order, as one router instance holding every partition would: each
 * decision sees its alias's state and every other alias's, and its result is kept for the next. Used by
 * tests and by the backtest; it only computes, it sends nothing.
 */
export class Replayer {
  readonly states: StateIndex;
  /** The Slack bookkeeping (command messages, thread links), by key. */
  private readonly keys: Map<string, SlackKeyState>;
  private readonly expiry = new ExpiryQueue();
  private watermark = Number.NEGATIVE_INFINITY;
  /** What every decision is given: the same for all of them, so made once. */
  private readonly ctx: DecisionContext;
  /** States evicted so far. */
  evicted = 0;

  constructor(
    private readonly rules: CompiledRules,
    private readonly opts: ReplayerOptions = {},
  ) {
    this.states = opts.states ?? new StateIndex();
    this.keys = new Map(opts.keys);
    // What it starts from expires as what it decides does: a firing kept before a backtest's window stops inhibiting.
    if (opts.retentionMs !== undefined) {
      for (const s of this.keys.values()) {
        const at = expiresAt(s, opts.retentionMs);
        if (at !== null) this.expiry.push(stateKey(s), at);
      }
    }
    this.ctx = {
      neighbours: this.states,
      ...(opts.silences ? { silences: opts.silences } : {}),
      ...(opts.retentionMs !== undefined ? { retentionMs: opts.retentionMs } : {}),
    };
  }

  /** States held: incidents and Slack records. */
  get size(): number {
    return this.states.size + this.keys.size;
  }

  decide(input: RouterInput): Decision {
    const before = this.keys.get(input.alias) ?? this.states.get(input.alias);
    const decision = decide(input, before, this.rules, this.ctx);
    const s = decision.state;
    // An alert's alias holds an incident or the resolve kept for it (ResolvedAlias), never both; a firing kept as an
    // inhibitor (SuppressedFiring) is held with the keys, and as an inhibitor (with its resolved incident) in the index.
    if (isIncidentState(s)) this.keys.delete(s.alias);
    else if (s) this.keys.set(stateKey(s), s);
    else if (isSuppressedFiring(before)) this.keys.delete(input.alias);
    if (s || isSuppressedFiring(before)) this.states.put(input.alias, s);
    this.collect(input, s);
    return decision;
  }

  state(alias: string): AliasState | undefined {
    return this.states.get(alias);
  }

  private current(key: string): RouterState | undefined {
    return this.keys.get(key) ?? this.states.get(key);
  }

  /** Evicts what expired longer ago than the grace, by the newest input's time (as the processor does). */
  private collect(input: RouterInput, s: RouterState | undefined): void {
    const retention = this.opts.retentionMs;
    if (retention === undefined || this.opts.evict === false) return;
    if (s) {
      const at = expiresAt(s, retention);
      if (at !== null) this.expiry.push(stateKey(s), at);
    }
    this.watermark = Math.max(this.watermark, Date.parse(input.recordedAt));
    for (const key of this.expiry.popDue(this.watermark - EVICTION_GRACE_MS)) {
      const current = this.current(key);
      const at = current ? expiresAt(current, retention) : null;
      if (!current || at === null || at > this.watermark - EVICTION_GRACE_MS) continue;
      if (isIncidentState(current)) this.states.delete(key);
      else {
        this.keys.delete(key);
        if (isSuppressedFiring(current)) this.states.put(key, undefined);
      }
      this.evicted += 1;
    }
  }
}
