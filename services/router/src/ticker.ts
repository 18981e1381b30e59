import { EventProducer, type createKafka } from '@alertbus/kafka';
import type { AnyEnvelope } from '@alertbus/schemas';
import type { Logger } from 'pino';

export interface TickerOptions {
  kafka: ReturnType<typeof createKafka>;
  log: Logger;
  /** Counts the ticks written. */
  onTicks?: (n: number) => void;
  /** The wall clock: the time a tick records (tests may pass another). */
  now?: () => number;
}

/** The ticks one look found due, and what to remember once they are written. */
export interface DueTicks {
  ticks: AnyEnvelope[];
  /** Called once every tick is written (not when the send failed: the next look finds them due again). */
  written(): void;
  /** What the debug line names. */
  logged: Record<string, unknown>;
}

/**
 * A router ticker: every `intervalMs` it looks for what is due (`due`, one look at a time) and writes it to
 * router.ticks.v1 with its own producer, connected at the first tick. Time reaches the decider only as such recorded
 * inputs. A send that fails is logged and tried again at the next look: a tick late is a decision late, never one lost.
 */
export abstract class Ticker {
  protected readonly now: () => number;
  private readonly producer: EventProducer;
  private timer: NodeJS.Timeout | undefined;
  private connected = false;
  private sweeping = false;

  protected constructor(
    private readonly base: TickerOptions,
    /** How often it looks. */
    protected readonly intervalMs: number,
    /** What the log lines call the ticks ('storm', 'silence-end'). */
    private readonly what: string,
  ) {
    this.now = base.now ?? Date.now;
    this.producer = new EventProducer(base.kafka);
  }

  /** The ticks due now, if any. */
  protected abstract due(): Promise<DueTicks | undefined> | DueTicks | undefined;

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // A look's send waits for Kafka however long it is away: stop waits for it a little, then disconnects under it.
    for (let waited = 0; this.sweeping && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
    this.connected = false;
  }

  /** One look: writes the ticks that are due. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const due = await this.due();
      if (due === undefined || due.ticks.length === 0) return;
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      await this.producer.send(due.ticks);
      due.written();
      this.base.onTicks?.(due.ticks.length);
      this.base.log.debug({ ticks: due.ticks.length, ...due.logged }, `${this.what} ticks written`);
    } catch (err) {
      this.base.log.warn({ err }, `could not write ${this.what} ticks`);
    } finally {
      this.sweeping = false;
    }
  }
}

/** A firing kept under an alias that a tick is due for: `mark` tells it from the same alias's next kept firing. */
export interface DueKeptFiring {
  alias: string;
  mark: string;
}

/**
 * A ticker for firings kept under their alias (silenced, inhibited) whose reason to stay quiet has ended: one tick per
 * alias and kept firing (its `mark`) while this instance runs. `found` lists the ones due by `nowMs`; `catchUp`, when
 * given, is waited for before a tick is written (what the list is read against may lag after a start).
 */
export abstract class KeptFiringTicker<F extends DueKeptFiring> extends Ticker {
  /** By alias: the kept firing's mark a tick was written for. */
  private readonly ticked = new Map<string, string>();

  protected abstract found(nowMs: number): F[];
  protected abstract tick(firing: F, recordedAt: string): AnyEnvelope;
  protected catchUp?(): Promise<boolean>;

  protected async due(): Promise<DueTicks | undefined> {
    if (this.found(this.now()).length === 0) {
      // None due: every alias ticked for has been decided (or its partition moved).
      this.ticked.clear();
      return undefined;
    }
    if (this.catchUp && !(await this.catchUp())) return undefined;
    const now = this.now();
    const found = this.found(now);
    const current = new Map(found.map((f) => [f.alias, f.mark]));
    // Bounded by the kept firings: an alias decided since (opened, kept anew, resolved, expired) is forgotten.
    for (const [alias, mark] of this.ticked) if (current.get(alias) !== mark) this.ticked.delete(alias);
    const due = found.filter((f) => !this.ticked.has(f.alias));
    if (due.length === 0) return undefined;
    const recordedAt = new Date(now).toISOString();
    return {
      ticks: due.map((f) => this.tick(f, recordedAt)),
      written: () => {
        for (const f of due) this.ticked.set(f.alias, f.mark);
      },
      logged: { recordedAt },
    };
  }
}
