/**
 * A group's committed offsets as the broker holds them once no transaction is still moving them: OffsetFetch version 7
 * with `require_stable` (KIP-447), which KafkaJS 2.2 cannot send (its OffsetFetch stops at version 4).
 *
 * Why it matters. A transaction's offsets become the group's committed offsets in two steps on the broker: the
 * transaction coordinator writes the commit markers (to the data partitions and to `__consumer_offsets`), and then the
 * group coordinator moves the transaction's pending offsets into the committed ones, on a scheduler thread of its own.
 * A reader may see a transaction's records committed (read_committed) and still be answered the offsets from before it
 * by a plain OffsetFetch. A member that takes over a partition restores its state by reading to the end of its topics,
 * then reads the group's offsets as the floor below which records were handled: in that moment it would decide the
 * last transaction's inputs a second time. Asked with `require_stable`, the broker answers UNSTABLE_OFFSET_COMMIT (88)
 * for a partition while any transaction's offsets for it are pending, and the reader asks again until they are not.
 * Java's consumer does the same (read_committed consumers set `require_stable`).
 */
import { createRequire } from 'node:module';
import type { Admin, Kafka } from 'kafkajs';
import { adminWithCluster } from './client';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));
/** KafkaJS's request encoder, required on first use (its framing reads the buffer and offset of one, see `ask`). */
let encoderPrototype: object | null = null;
const kafkajsEncoder = (): object => (encoderPrototype ??= (kafkajsRequire('./src/protocol/encoder') as { prototype: object }).prototype);

const OFFSET_FETCH = 9;
const STABLE_VERSION = 7;
export const UNSTABLE_OFFSET_COMMIT = 88;

export interface GroupOffsetsRequest {
  topic: string;
  partitions: number[];
}

export interface GroupOffsets {
  topic: string;
  /** `offset` as KafkaJS gives it: a decimal string, '-1' where the group has committed nothing. */
  partitions: Array<{ partition: number; offset: string }>;
}

interface PartitionAnswer {
  partition: number;
  offset: string;
  errorCode: number;
}

interface OffsetFetchAnswer {
  errorCode: number;
  topics: Array<{ topic: string; partitions: PartitionAnswer[] }>;
}

function uvarintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size += 1;
  }
  return size;
}

function writeUVarInt(buf: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    buf[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[at++] = value;
  return at;
}

/**
 * The request after KafkaJS's header (api key, version, correlation id, client id): request header version 2 adds an
 * empty tagged-field buffer there, then the body, flexible (compact strings and arrays, tagged fields).
 */
export function encodeOffsetFetchV7(groupId: string, topics: readonly GroupOffsetsRequest[], requireStable: boolean): Buffer {
  const group = Buffer.from(groupId, 'utf8');
  const names = topics.map((t) => Buffer.from(t.topic, 'utf8'));
  let size = 1 + uvarintSize(group.length + 1) + group.length + uvarintSize(topics.length + 1) + 1 + 1;
  topics.forEach((t, i) => {
    size += uvarintSize(names[i]!.length + 1) + names[i]!.length + uvarintSize(t.partitions.length + 1) + 4 * t.partitions.length + 1;
  });
  const buf = Buffer.alloc(size);
  let at = 0;
  buf[at++] = 0; // request header's tagged fields: none
  at = writeUVarInt(buf, at, group.length + 1);
  at += group.copy(buf, at);
  at = writeUVarInt(buf, at, topics.length + 1);
  topics.forEach((t, i) => {
    at = writeUVarInt(buf, at, names[i]!.length + 1);
    at += names[i]!.copy(buf, at);
    at = writeUVarInt(buf, at, t.partitions.length + 1);
    for (const p of t.partitions) at = buf.writeInt32BE(p, at);
    buf[at++] = 0; // the topic's tagged fields
  });
  buf[at++] = requireStable ? 1 : 0;
  buf[at++] = 0; // the body's tagged fields
  if (at !== size) throw new Error(`OffsetFetch encoded in ${at} bytes, ${size} planned`);
  return buf;
}

class Reader {
  at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(bytes: number): void {
    if (this.at + bytes > this.buf.length) throw new Error(`OffsetFetch answer ends early (${this.buf.length} bytes)`);
  }

  uvarint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      this.need(1);
      const byte = this.buf[this.at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
      if (scale > 2 ** 35) throw new Error('OffsetFetch answer holds a number too long');
    }
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  int64(): string {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v.toString();
  }

  /** Compact (nullable) string: its length plus one, 0 for null. */
  string(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    this.need(n - 1);
    const end = this.at + n - 1;
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end;
    return s;
  }

  array<T>(item: () => T): T[] {
    const n = this.uvarint();
    const out: T[] = [];
    for (let i = 1; i < n; i++) out.push(item());
    return out;
  }

  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      const size = this.uvarint();
      this.need(size);
      this.at += size;
    }
  }
}

/** The answer after the correlation id: response header version 1 (tagged fields), then the flexible body. */
export function decodeOffsetFetchV7(payload: Buffer): OffsetFetchAnswer {
  const r = new Reader(payload);
  r.skipTaggedFields();
  r.int32(); // throttle time
  const topics = r.array(() => {
    const topic = r.string() ?? '';
    const partitions = r.array((): PartitionAnswer => {
      const partition = r.int32();
      const offset = r.int64();
      r.int32(); // committed leader epoch
      r.string(); // metadata
      const errorCode = r.int16();
      r.skipTaggedFields();
      return { partition, offset, errorCode };
    });
    r.skipTaggedFields();
    return { topic, partitions };
  });
  const errorCode = r.int16();
  r.skipTaggedFields();
  return { errorCode, topics };
}

/** A KafkaJS protocol error for `code` (its name, type and retriable flag), or a plain one naming the code. */
function errorFor(code: number, what: string): Error {
  try {
    const { createErrorFromCode } = kafkajsRequire('./src/protocol/error') as { createErrorFromCode: (code: number) => Error };
    const err = createErrorFromCode(code);
    err.message = `${what}: ${err.message}`;
    return err;
  } catch {
    return new Error(`${what}: Kafka error code ${code}`);
  }
}

type CoordinatorBroker = {
  versions?: Record<number, { minVersion: number; maxVersion: number }> | null;
  connectionPool?: { send(req: { request: object; response: object }): Promise<unknown> };
};

type GroupCluster = { findGroupCoordinator(args: { groupId: string }): Promise<CoordinatorBroker> };

const isGroupCluster = (c: Record<string, unknown> | null): c is Record<string, unknown> & GroupCluster =>
  c !== null && typeof c.findGroupCoordinator === 'function';

export class UnstableOffsetsError extends Error {
  constructor(readonly partitions: string[], waitedMs: number) {
    super(`offsets of ${partitions.join(', ')} still pending in a transaction after ${waitedMs} ms`);
    this.name = 'UnstableOffsetsError';
  }
}

export interface StableFetchOptions {
  /** How long to ask again while a transaction's offsets are pending; past it, UnstableOffsetsError. Default: no limit. */
  maxWaitMs?: number;
  /** Past `maxWaitMs`, answer the plain offsets (committed so far, whatever is pending) instead of throwing. */
  plainAfterWait?: boolean;
  /** Told when `plainAfterWait` takes the plain offsets, with the partitions still pending. */
  onPlain?: (pending: string[]) => void;
  /** Asked before every new attempt: true stops the wait with the error it returns. */
  cancelled?: () => Error | null;
  /** Told once per second of waiting, with the partitions still pending. */
  onWait?: (pending: string[], waitedMs: number) => void;
}

/**
 * An admin and, when the client is one of createKafka's, its cluster: `fetch` asks the group coordinator itself with
 * `require_stable`. Without the cluster (a `Kafka` made some other way) or with a broker older than Kafka 2.5, it falls
 * back to KafkaJS's `fetchOffsets` (`stable` is then false).
 */
export class StableOffsets {
  readonly admin: Admin;
  private readonly cluster: GroupCluster | null;

  constructor(kafka: Kafka) {
    const { admin, cluster } = adminWithCluster(kafka, {});
    this.admin = admin;
    this.cluster = isGroupCluster(cluster) ? cluster : null;
  }

  /** Whether `fetch` can ask for stable offsets at all (the client's cluster is reachable). */
  get stable(): boolean {
    return this.cluster !== null;
  }

  /**
   * The committed offsets of `groupId` for these partitions, each settled: asked again (10 ms, doubling to 200 ms)
   * while any of them has a transaction's offsets pending.
   */
  async fetch(groupId: string, topics: readonly GroupOffsetsRequest[], opts: StableFetchOptions = {}): Promise<GroupOffsets[]> {
    const wanted = topics.filter((t) => t.partitions.length > 0);
    if (wanted.length === 0) return [];
    const cluster = this.cluster;
    if (!cluster) return this.plain(groupId, wanted);
    const started = Date.now();
    let wait = 10;
    let told = started;
    for (;;) {
      const coordinator = await cluster.findGroupCoordinator({ groupId });
      const range = coordinator.versions?.[OFFSET_FETCH];
      if (!coordinator.connectionPool || (range && range.maxVersion < STABLE_VERSION)) return this.plain(groupId, wanted);
      const answer = await this.ask(coordinator, groupId, wanted);
      if (answer.errorCode !== 0) throw errorFor(answer.errorCode, `fetching the offsets of group ${groupId}`);
      const pending: string[] = [];
      for (const t of answer.topics) {
        for (const p of t.partitions) {
          if (p.errorCode === UNSTABLE_OFFSET_COMMIT) pending.push(`${t.topic}/${p.partition}`);
          else if (p.errorCode !== 0) throw errorFor(p.errorCode, `fetching the offset of ${t.topic}/${p.partition} for group ${groupId}`);
        }
      }
      if (pending.length === 0) return answer.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map(({ partition, offset }) => ({ partition, offset })) }));
      const waited = Date.now() - started;
      if (opts.maxWaitMs !== undefined && waited >= opts.maxWaitMs) {
        if (!opts.plainAfterWait) throw new UnstableOffsetsError(pending, waited);
        opts.onPlain?.(pending);
        return this.plain(groupId, wanted);
      }
      const stop = opts.cancelled?.();
      if (stop) throw stop;
      if (Date.now() - told >= 1_000) {
        told = Date.now();
        opts.onWait?.(pending, waited);
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(200, wait * 2);
    }
  }

  private async ask(coordinator: CoordinatorBroker, groupId: string, topics: readonly GroupOffsetsRequest[]): Promise<OffsetFetchAnswer> {
    const body = encodeOffsetFetchV7(groupId, topics, true);
    const request = {
      apiKey: OFFSET_FETCH,
      apiVersion: STABLE_VERSION,
      apiName: 'OffsetFetch',
      // What KafkaJS's request framing reads from an encoder: its buffer and offset.
      encode: async () => Object.assign(Object.create(kafkajsEncoder()) as object, { buf: body, offset: body.length }),
    };
    const response = {
      decode: async (payload: Buffer) => decodeOffsetFetchV7(payload),
      parse: async (answer: OffsetFetchAnswer) => answer,
    };
    return (await coordinator.connectionPool!.send({ request, response })) as OffsetFetchAnswer;
  }

  /** KafkaJS's OffsetFetch: the offsets committed so far, whatever a transaction has pending. */
  async plain(groupId: string, topics: readonly GroupOffsetsRequest[]): Promise<GroupOffsets[]> {
    const got = await this.admin.fetchOffsets({ groupId, topics: topics.map((t) => t.topic) });
    return got.map((t) => {
      const want = new Set(topics.find((w) => w.topic === t.topic)?.partitions ?? []);
      return { topic: t.topic, partitions: t.partitions.filter((p) => want.has(p.partition)).map(({ partition, offset }) => ({ partition, offset })) };
    });
  }
}
