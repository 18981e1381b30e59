import { Producer, type MessageToProduce } from '@platformatic/kafka';
import type { Message } from 'kafkajs';
import type { Logger } from 'pino';
import { murmur2 } from './murmur2';
import type { ProduceDriver } from './producer';

/** What the errors of @platformatic/kafka carry: a code, whether retrying can help, and the errors they gather. */
interface PlatformaticError {
  code?: unknown;
  canRetry?: unknown;
  apiId?: unknown;
  errors?: unknown;
  cause?: unknown;
}

const gathered = (e: PlatformaticError): boolean => Array.isArray(e.errors) && e.errors.length > 0;

/**
 * The errors in an error's tree, a bounded number of them: those that MultipleErrors and ResponseError gather in
 * `errors`, and with `causes`, the causes of each too.
 */
function errorTree(err: unknown, causes: boolean): PlatformaticError[] {
  const out: PlatformaticError[] = [];
  const todo: unknown[] = [err];
  while (todo.length > 0 && out.length < 100) {
    const e = todo.shift();
    if (!e || typeof e !== 'object') continue;
    const x = e as PlatformaticError;
    out.push(x);
    if (gathered(x)) todo.push(...(x.errors as unknown[]));
    if (causes && x.cause) todo.push(x.cause);
  }
  return out;
}

/**
 * The broker is away or slow, nothing else: every error is of the network (refused, reset, timed out) or an answer
 * the broker says may change (not the leader, not enough replicas). The client gives up on them after a few tries;
 * the same records are then sent again with the same sequence numbers, which the broker takes once. Anything else
 * (a record too large, a topic that does not exist, a sequence number it does not expect, a fault of the caller)
 * refuses the send.
 */
function onlyTransient(err: unknown): boolean {
  const all = errorTree(err, false).filter((e) => !gathered(e));
  return all.length > 0 && all.every((e) => e.code === 'PLT_KFK_NETWORK' || (e.code === 'PLT_KFK_PROTOCOL' && e.canRetry === true));
}

/** The broker refused records, and the client then no longer knows which sequence numbers it expects. */
function platformaticBreaksSequence(err: unknown): boolean {
  return errorTree(err, true).some((e) => e.code === 'PLT_KFK_PROTOCOL' && e.canRetry === false);
}

/**
 * A short account of an error: the broker's answers (or the innermost errors) with their messages, never the records
 * or the client's options.
 */
function describe(err: unknown): string {
  const tree = errorTree(err, true);
  const answers = tree.filter((e) => e.apiId !== undefined);
  const leaves = answers.length > 0 ? answers : tree.filter((e) => !gathered(e));
  const lines = [...new Set(leaves.map((e) => `${e.apiId ? `${String(e.apiId)}: ` : ''}${String((e as { message?: unknown }).message ?? e.code)}`))];
  return lines.slice(0, 5).join('; ') || String(err);
}

const toBuffer = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/** As the Java client and KafkaJS: the key's murmur2 made positive; the client takes it modulo the partition count. */
function javaPartitioner(_message: MessageToProduce<Buffer, Buffer, Buffer, Buffer>, key: Buffer | undefined): number {
  return key ? murmur2(key) & 0x7fffffff : 0;
}

/**
 * EventProducer's records written by @platformatic/kafka: an idempotent producer (acks=all, one request in flight per
 * broker) whose sends, through a broker outage, are tried again until the broker acknowledges them.
 */
export class PlatformaticDriver implements ProduceDriver {
  private readonly producer: Producer;
  private closed = false;
  private readonly log?: Logger;

  /** `requestTimeoutMs`: how long one request may wait for the broker's answer before it is sent again (30 s). */
  constructor(opts: { brokers: string[]; clientId: string; log?: Logger; requestTimeoutMs?: number }) {
    this.log = opts.log?.child({ component: 'platformatic-kafka' });
    this.producer = new Producer({
      clientId: opts.clientId,
      bootstrapBrokers: opts.brokers,
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      partitioner: javaPartitioner,
      // As the KafkaJS client: a few tries within a request, so connect() answers "not reachable" in seconds; sends
      // are then tried again here, however long the broker is away.
      retries: 8,
      retryDelay: (_client, _op, attempt) => Math.min(200 * 2 ** Math.min(attempt - 1, 5), 5_000),
      connectTimeout: 3_000,
      // How long the broker may wait for the replicas (acks=all), and how long the client waits for its answer.
      timeout: 30_000,
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
    });
  }

  async connect(): Promise<void> {
    if (this.closed) throw new Error('this producer was disconnected');
    await this.producer.initIdempotentProducer({});
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    await this.producer.close(true);
  }

  async send(records: ReadonlyArray<{ topic: string; message: Message }>): Promise<void> {
    const messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = records.map(({ topic, message }) => {
      const headers = new Map<Buffer, Buffer>();
      for (const [k, v] of Object.entries(message.headers ?? {})) {
        if (v !== undefined) headers.set(Buffer.from(k), Array.isArray(v) ? toBuffer(v.join(',')) : toBuffer(v));
      }
      return {
        topic,
        key: message.key == null ? undefined : toBuffer(message.key),
        value: message.value == null ? undefined : toBuffer(message.value),
        headers,
        timestamp: message.timestamp === undefined ? undefined : BigInt(message.timestamp),
      };
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.producer.send({ messages });
        return;
      } catch (err) {
        if (this.closed) throw err;
        if (!onlyTransient(err)) throw new Error(`Kafka refused the records: ${describe(err)}`, { cause: err });
        this.log?.warn({ attempt, records: messages.length, problem: describe(err) }, 'Kafka did not acknowledge the records yet: sending them again');
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** Math.min(attempt - 1, 5), 5_000)));
      }
    }
  }

  breaksSequence(err: unknown): boolean {
    return platformaticBreaksSequence(err);
  }
}
