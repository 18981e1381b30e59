import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { Logger } from 'pino';

export interface BrokerHealthOptions {
  brokers: string[];
  clientId: string;
  /** How often the cluster is asked for its metadata; default 2 s. */
  intervalMs?: number;
  /** How long one round trip may take before the cluster counts as unreachable; default 3 s. */
  timeoutMs?: number;
  log?: Logger;
}

/**
 * Whether the Kafka cluster answers, found out by asking: a metadata round trip with a timeout, every few
 * seconds, on a client of its own that does not retry. A producer cannot tell: KafkaJS emits DISCONNECT only
 * when disconnect() is called, so a producer whose broker died still says it is connected.
 */
export class BrokerHealth {
  private readonly kafka: Kafka;
  private admin: Admin | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ok = false;
  private lastError: string | null = 'not probed yet';
  private downSince: Date | null = new Date();
  private cluster: string | undefined;
  private inFlight: Promise<void> | null = null;
  /** When a write was last acknowledged (epoch ms; 0: never). */
  private lastAnswerAt = 0;
  readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: BrokerHealthOptions) {
    this.intervalMs = opts.intervalMs ?? 2_000;
    this.timeoutMs = opts.timeoutMs ?? 3_000;
    this.kafka = new Kafka({
      clientId: `${opts.clientId}-health`,
      brokers: opts.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: this.timeoutMs,
      requestTimeout: this.timeoutMs,
      retry: { retries: 0 },
    });
  }

  /** The cluster answered the latest probe, or a write since. */
  get reachable(): boolean {
    return this.ok;
  }

  /**
   * The cluster acknowledged a write just now. A busy machine can make a probe miss its timeout while writes go
   * through: a probe that fails within `intervalMs + timeoutMs` of an acknowledged write does not count the
   * cluster unreachable (refusing every request for it would be the outage the probe exists to report).
   */
  answered(): void {
    this.lastAnswerAt = Date.now();
    if (this.ok) return;
    this.ok = true;
    this.lastError = null;
    this.downSince = null;
  }

  /** Why the cluster counts as unreachable, or null. */
  get problem(): string | null {
    if (this.ok) return null;
    const since = this.downSince ? ` since ${this.downSince.toISOString()}` : '';
    return `Kafka (${this.opts.brokers.join(',')}) did not answer a metadata request within ${this.timeoutMs} ms${since}: ${this.lastError}`;
  }

  /** The cluster id from the latest successful probe. */
  get clusterId(): string | undefined {
    return this.cluster;
  }

  /** Probes now and then every intervalMs. */
  async start(): Promise<void> {
    await this.probe();
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.probe().finally(() => {
        if (this.timer) this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One metadata round trip (concurrent callers share it). */
  probe(): Promise<void> {
    this.inFlight ??= this.roundTrip().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async roundTrip(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const admin = this.admin ?? (this.admin = this.kafka.admin());
      const answer = (async () => {
        await admin.connect();
        return admin.describeCluster();
      })();
      answer.catch(() => undefined);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      const { clusterId } = await Promise.race([answer, timeout]);
      this.cluster = clusterId;
      if (!this.ok) this.opts.log?.info({ clusterId }, 'Kafka is reachable');
      this.ok = true;
      this.lastError = null;
      this.downSince = null;
    } catch (err) {
      // A fresh client next time: one that lost its broker mid-request can stay stuck.
      const old = this.admin;
      this.admin = null;
      void old?.disconnect().catch(() => undefined);
      if (this.ok && Date.now() - this.lastAnswerAt <= this.intervalMs + this.timeoutMs) {
        this.opts.log?.info({ error: (err as Error).message }, 'Kafka probe failed while writes are acknowledged; still reachable');
        return;
      }
      if (this.ok) this.opts.log?.warn({ error: (err as Error).message }, 'Kafka is unreachable');
      this.ok = false;
      this.lastError = (err as Error).message;
      this.downSince ??= new Date();
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight?.catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = null;
  }
}
