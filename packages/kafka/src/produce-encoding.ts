/**
 * Produce requests (versions 3 to 7, uncompressed) encoded in one pass into one buffer, byte for byte what
 * KafkaJS 2.2 writes. KafkaJS's own encoder builds every record, every header and every varint in buffers of
 * their own (a zero-filled 512-byte buffer per record and per header, grown by copying, and a small buffer per
 * varint), then copies each level into the next: in ingest that was about a fifth of its CPU per alert.
 *
 * `installProduceEncoder()` puts it in front of KafkaJS's Produce request for the whole process. Requests it does
 * not handle exactly (compression, a timestamp or a field of a type KafkaJS would treat otherwise, an empty
 * partition) still go through KafkaJS's own encoder. Decoding, retries, sequence numbers: all KafkaJS's as before.
 */
import { createRequire } from 'node:module';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));

interface LongLike {
  value: bigint;
}
interface LongStatic {
  fromValue(v: unknown): LongLike;
  fromInt(v: number): LongLike;
}

type Bytes = string | Buffer | null | undefined;

export interface ProduceMessage {
  key?: Bytes;
  value?: Bytes;
  timestamp?: string | number | null;
  headers?: Record<string, Bytes | Bytes[]>;
}

export interface ProduceArgs {
  acks: number;
  timeout: number;
  compression?: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  topicData: Array<{
    topic: string;
    partitions: Array<{ partition: number; firstSequence?: number; messages: ProduceMessage[] }>;
  }>;
}

// ---- CRC-32C (Castagnoli), eight bytes at a time ----

/** Slicing-by-8 tables, one after the other: table k at [256 k, 256 k + 256). */
const CRC_TABLE: Int32Array = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** CRC-32C of buf[start, end), as an unsigned 32-bit number (what a record batch carries). */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = CRC_TABLE;
  let crc = -1;
  let i = start;
  for (const last8 = end - 8; i <= last8; i += 8) {
    const lo = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < end; i++) crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

// ---- varints as KafkaJS writes them ----

/** Bytes of an unsigned varint of a 32-bit value (KafkaJS's writeUVarInt). */
function uvarintSize(value: number): number {
  let bytes = 1;
  while ((value & 0xffffff80) !== 0) {
    bytes += 1;
    value >>>= 7;
  }
  return bytes;
}

const zigzag = (value: number): number => (value << 1) ^ (value >> 31);

function writeUVarInt(buf: Buffer, at: number, value: number): number {
  while ((value & 0xffffff80) !== 0) {
    buf[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[at++] = value & 0x7f;
  return at;
}

/** A 64-bit zig-zag varint of a safe integer, as KafkaJS's writeVarLong writes it. */
function varlongSize(value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  let bytes = 1;
  while (v >= 128) {
    bytes += 1;
    v = Math.floor(v / 128);
  }
  return bytes;
}

function writeVarLong(buf: Buffer, at: number, value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  while (v >= 128) {
    buf[at++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[at++] = v;
  return at;
}

// ---- the plan: every length measured once, then written ----

const isBytes = (v: unknown): v is Bytes => v === null || v === undefined || typeof v === 'string' || Buffer.isBuffer(v);
const byteLength = (v: string | Buffer): number => (typeof v === 'string' ? Buffer.byteLength(v) : v.length);

interface RecordPlan {
  /** The record's body size (what its leading varint says). */
  body: number;
  timestampDelta: number;
  key: Bytes;
  keyBytes: number;
  value: Bytes;
  valueBytes: number;
  headers: Array<{ key: string; keyBytes: number; value: string | Buffer; valueBytes: number }>;
}

interface PartitionPlan {
  partition: number;
  firstSequence: number;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  records: RecordPlan[];
  /** Size of the record batch from its attributes to its last record (what the CRC covers). */
  crcBytes: number;
}

const MAX_SAFE_TIMESTAMP = /^-?\d{1,15}$/;

/** A timestamp as KafkaJS's Long would read it, when it reads it as an exact integer; else undefined. */
function timestampValue(ts: string | number): number | undefined {
  if (typeof ts === 'number') return Number.isSafeInteger(ts) ? ts : undefined;
  return MAX_SAFE_TIMESTAMP.test(ts) ? Number(ts) : undefined;
}

function planPartition(p: { partition: number; firstSequence?: number; messages: ProduceMessage[] }, dateNow: number): PartitionPlan | null {
  const { messages } = p;
  if (messages.length === 0) return null;
  // KafkaJS's order, string sort included: the first and the last after sorting are the batch's bounds.
  const stamps = messages.map((m) => m.timestamp).filter((t): t is string | number => t != null);
  for (const t of stamps) if (timestampValue(t) === undefined) return null;
  stamps.sort();
  const first = stamps.length === 0 ? dateNow : timestampValue(stamps[0]!)!;
  const max = stamps.length === 0 ? dateNow : timestampValue(stamps[stamps.length - 1]!)!;
  let crcBytes = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
  const records: RecordPlan[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (!isBytes(m.key) || !isBytes(m.value)) return null;
    // `timestamp || now`, as KafkaJS: a number 0 (or an empty string) means "now".
    const timestampDelta = (m.timestamp ? timestampValue(m.timestamp)! : dateNow) - first;
    if (!Number.isSafeInteger(timestampDelta)) return null;
    const keyBytes = m.key == null ? -1 : byteLength(m.key);
    const valueBytes = m.value == null ? -1 : byteLength(m.value);
    const headers: RecordPlan['headers'] = [];
    let headerBytes = 0;
    if (m.headers !== undefined) {
      if (m.headers === null || typeof m.headers !== 'object') return null;
      for (const hk of Object.keys(m.headers)) {
        const hv = m.headers[hk];
        for (const v of Array.isArray(hv) ? hv : [hv]) {
          // KafkaJS measures every header value with Buffer.byteLength: anything else is left to it (it throws).
          if (typeof v !== 'string' && !Buffer.isBuffer(v)) return null;
          const h = { key: hk, keyBytes: Buffer.byteLength(hk), value: v, valueBytes: byteLength(v) };
          headers.push(h);
          headerBytes += uvarintSize(zigzag(h.keyBytes)) + h.keyBytes + uvarintSize(zigzag(h.valueBytes)) + h.valueBytes;
        }
      }
    }
    const body =
      1 +
      varlongSize(timestampDelta) +
      uvarintSize(zigzag(i)) +
      uvarintSize(zigzag(keyBytes)) +
      Math.max(keyBytes, 0) +
      uvarintSize(zigzag(valueBytes)) +
      Math.max(valueBytes, 0) +
      uvarintSize(zigzag(headers.length)) +
      headerBytes;
    records.push({ body, timestampDelta, key: m.key, keyBytes, value: m.value, valueBytes, headers });
    crcBytes += uvarintSize(zigzag(body)) + body;
  }
  return {
    partition: p.partition,
    firstSequence: p.firstSequence ?? 0,
    firstTimestamp: BigInt(first),
    maxTimestamp: BigInt(max),
    records,
    crcBytes,
  };
}

function writeBytesField(buf: Buffer, at: number, v: string | Buffer, n: number): number {
  if (typeof v === 'string') buf.write(v, at, n, 'utf8');
  else v.copy(buf, at);
  return at + n;
}

/**
 * The body of a Produce request (everything after the request header), as KafkaJS's v3 encoder writes it, or
 * null when the request is one this encoder leaves to KafkaJS.
 */
export function encodeProduceRequest(args: ProduceArgs, Long: LongStatic, dateNow = Date.now()): Buffer | null {
  if ((args.compression ?? 0) !== 0) return null;
  const transactionalId = args.transactionalId ?? null;
  const producerId = BigInt.asIntN(64, Long.fromValue(args.producerId ?? Long.fromInt(-1)).value);
  const producerEpoch = args.producerEpoch ?? 0;
  const txBytes = transactionalId === null ? 0 : Buffer.byteLength(transactionalId);
  let size = 2 + txBytes + 2 + 4 + 4;
  const topics: Array<{ topic: string; topicBytes: number; partitions: PartitionPlan[] }> = [];
  for (const t of args.topicData) {
    const topicBytes = Buffer.byteLength(t.topic);
    size += 2 + topicBytes + 4;
    const partitions: PartitionPlan[] = [];
    for (const p of t.partitions) {
      const plan = planPartition(p, dateNow);
      if (!plan) return null;
      partitions.push(plan);
      // partition, record set size, first offset, batch length, leader epoch, magic, crc, then the CRC'd part
      size += 4 + 4 + 8 + 4 + 4 + 1 + 4 + plan.crcBytes;
    }
    topics.push({ topic: t.topic, topicBytes, partitions });
  }

  const buf = Buffer.allocUnsafe(size);
  let at = buf.writeInt16BE(transactionalId === null ? -1 : txBytes, 0);
  if (transactionalId !== null) at += buf.write(transactionalId, at, txBytes, 'utf8');
  at = buf.writeInt16BE(args.acks, at);
  at = buf.writeInt32BE(args.timeout, at);
  at = buf.writeInt32BE(topics.length, at);
  const attributes = transactionalId ? 16 : 0;
  for (const t of topics) {
    at = buf.writeInt16BE(t.topicBytes, at);
    at += buf.write(t.topic, at, t.topicBytes, 'utf8');
    at = buf.writeInt32BE(t.partitions.length, at);
    for (const p of t.partitions) {
      const batchBytes = 4 + 1 + 4 + p.crcBytes;
      at = buf.writeInt32BE(p.partition, at);
      at = buf.writeInt32BE(8 + 4 + batchBytes, at);
      at = buf.writeBigInt64BE(0n, at); // first offset
      at = buf.writeInt32BE(batchBytes, at);
      at = buf.writeInt32BE(0, at); // partition leader epoch
      buf[at++] = 2; // magic
      const crcAt = at;
      at += 4;
      const crcFrom = at;
      at = buf.writeInt16BE(attributes, at);
      at = buf.writeInt32BE(p.records.length - 1, at);
      at = buf.writeBigInt64BE(BigInt.asIntN(64, p.firstTimestamp), at);
      at = buf.writeBigInt64BE(BigInt.asIntN(64, p.maxTimestamp), at);
      at = buf.writeBigInt64BE(producerId, at);
      at = buf.writeInt16BE(producerEpoch, at);
      at = buf.writeInt32BE(p.firstSequence, at);
      at = buf.writeInt32BE(p.records.length, at);
      for (let i = 0; i < p.records.length; i++) {
        const r = p.records[i]!;
        at = writeUVarInt(buf, at, zigzag(r.body));
        buf[at++] = 0; // attributes
        at = writeVarLong(buf, at, r.timestampDelta);
        at = writeUVarInt(buf, at, zigzag(i));
        at = writeUVarInt(buf, at, zigzag(r.keyBytes));
        if (r.key != null) at = writeBytesField(buf, at, r.key, r.keyBytes);
        at = writeUVarInt(buf, at, zigzag(r.valueBytes));
        if (r.value != null) at = writeBytesField(buf, at, r.value, r.valueBytes);
        at = writeUVarInt(buf, at, zigzag(r.headers.length));
        for (const h of r.headers) {
          at = writeUVarInt(buf, at, zigzag(h.keyBytes));
          at += buf.write(h.key, at, h.keyBytes, 'utf8');
          at = writeUVarInt(buf, at, zigzag(h.valueBytes));
          at = writeBytesField(buf, at, h.value, h.valueBytes);
        }
      }
      buf.writeUInt32BE(crc32c(buf, crcFrom, at), crcAt);
    }
  }
  if (at !== size) throw new Error(`produce request encoded in ${at} bytes, ${size} planned`);
  return buf;
}

type RequestMaker = (args: ProduceArgs) => { request: { encode: () => unknown } & Record<string, unknown>; response: unknown };

let installed = false;

/**
 * Puts encodeProduceRequest in front of KafkaJS's Produce request (versions 3 to 7) for every client of this
 * process. Returns false, changing nothing, when KafkaJS's internals are not where 2.2 keeps them.
 */
export function installProduceEncoder(): boolean {
  if (installed) return true;
  let produce: { protocol?: unknown };
  let Encoder: { prototype: object };
  let Long: LongStatic;
  try {
    produce = kafkajsRequire('./src/protocol/requests/produce') as { protocol?: unknown };
    Encoder = kafkajsRequire('./src/protocol/encoder') as { prototype: object };
    Long = kafkajsRequire('./src/utils/long') as LongStatic;
  } catch {
    return false;
  }
  const original = produce.protocol;
  if (typeof original !== 'function' || typeof (Encoder.prototype as { writeEncoder?: unknown }).writeEncoder !== 'function') return false;
  produce.protocol = ({ version }: { version: number | string }) => {
    const make = (original as (v: { version: number | string }) => RequestMaker)({ version });
    if (typeof make !== 'function' || !(Number(version) >= 3 && Number(version) <= 7)) return make;
    return (args: ProduceArgs) => {
      const made = make(args);
      return {
        ...made,
        request: {
          ...made.request,
          encode: async () => {
            let body: Buffer | null;
            try {
              body = encodeProduceRequest(args, Long);
            } catch {
              body = null; // whatever this encoder cannot write, KafkaJS's writes (or refuses) as before
            }
            if (body === null) return made.request.encode();
            // What KafkaJS's request framing reads from an encoder: its buffer and offset.
            return Object.assign(Object.create(Encoder.prototype) as object, { buf: body, offset: body.length });
          },
        },
      };
    };
  };
  installed = true;
  return true;
}
