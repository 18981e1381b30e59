import { createRequire } from 'node:module';
import { Kafka, logLevel, type Admin, type ISocketFactory } from 'kafkajs';
import type { Logger } from 'pino';
import { adminWithCluster, exposeClusters } from './client';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));

/** Marks a topic list that means "no topics" on the wire (KafkaJS encodes every empty list as null: all topics). */
const NO_TOPICS = Symbol('alertbus:no-topics');
let noTopicsEncoded: boolean | null = null;

/**
 * An empty topic list that KafkaJS 2.2's Metadata request encodes as an empty array (no topics) instead of null, which
 * the broker answers with every topic's partitions and leaders. KafkaJS passes a list shorter than 2 on unshuffled, so
 * the mark reaches the encoder. Null when the encoder is not where KafkaJS 2.2 keeps it (then the caller asks as before).
 */
function noTopics(): string[] | null {
  if (noTopicsEncoded === null) {
    noTopicsEncoded = false;
    try {
      const Encoder = kafkajsRequire('./src/protocol/encoder') as { prototype: Record<string, unknown> };
      const writeNullableArray = Encoder?.prototype?.writeNullableArray;
      const writeArray = Encoder?.prototype?.writeArray;
      if (typeof writeNullableArray === 'function' && typeof writeArray === 'function') {
        Encoder.prototype.writeNullableArray = function (this: unknown, array: unknown[], type?: string) {
          if (array.length === 0 && (array as unknown as Record<symbol, unknown>)[NO_TOPICS]) return (writeArray as (...a: unknown[]) => unknown).call(this, array, type, 0);
          return (writeNullableArray as (...a: unknown[]) => unknown).call(this, array, type);
        };
        noTopicsEncoded = true;
      }
    } catch {
      // another KafkaJS: ask as before
    }
  }
  if (!noTopicsEncoded) return null;
  const topics: string[] = [];
  Object.defineProperty(topics, NO_TOPICS, { value: true });
  return topics;
}

/** How long the probe's client keeps the metadata it was answered (KafkaJS's default for producers and consumers). */
const PROBE_METADATA_MAX_AGE_MS = 300_000;

type ClusterMetadata = (args: { topics: string[] }) => Promise<{ clusterId: string }>;
type ProbeMetadata = () => Promise<{ clusterId: string }>;

export interface BrokerHealthOptions {
  brokers: string[];
  clientId: string;
  /** How often the cluster is asked for its metadata; default 2 s. */
  intervalMs?: number;
  /** How long one round trip may take before the cluster counts as unreachable; default 3 s. */
  timeoutMs?: number;
  log?: Logger;
  /** The probe's connections (default KafkaJS's): tests watch its requests on the wire with it. */
  socketFactory?: ISocketFactory;
}

/**
 * Whether the Kafka cluster answers, found out by asking: a metadata round trip with a timeout, every few
 * seconds, on a client of its own that does not retry. A producer cannot tell: KafkaJS emits DISCONNECT only
 * when disconnect() is called, so a producer whose broker died still says it is connected. The metadata asked for
 * names no topics (KafkaJS's describeCluster asks for all of them: every topic's partitions, every 2 s, twice);
 * the answer still carries the brokers and the cluster id.
 */
export class BrokerHealth {
  private readonly kafka: Kafka;
  private admin: Admin | null = null;
  /** The admin's cluster, asked for metadata directly (null: through describeCluster). */
  private metadata: ProbeMetadata | null = null;
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
      ...(opts.socketFactory ? { socketFactory: opts.socketFactory } : {}),
    });
    exposeClusters(this.kafka);
  }

  private newAdmin(): Admin {
    // KafkaJS's admin refreshes its metadata before every call: a second Metadata request per probe, for nothing.
    const { admin, cluster } = adminWithCluster(this.kafka, { metadataMaxAge: PROBE_METADATA_MAX_AGE_MS });
    const metadata = cluster?.metadata;
    this.metadata =
      typeof metadata === 'function' && noTopics()
        ? () => (metadata as ClusterMetadata).call(cluster, { topics: noTopics() ?? [] })
        : null;
    return admin;
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
      const admin = this.admin ?? (this.admin = this.newAdmin());
      const metadata = this.metadata;
      const answer = (async () => {
        await admin.connect();
        return metadata ? metadata() : admin.describeCluster();
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
