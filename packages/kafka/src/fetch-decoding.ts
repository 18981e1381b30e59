/**
 * Fetched record batches (magic 2, uncompressed) decoded in one pass, into the same messages KafkaJS 2.2 makes.
 * KafkaJS's own decoder makes a Decoder object and a buffer view per record, parses the batch's first offset and
 * timestamp from their decimal strings again for every record (its Long class) and folds each record's headers
 * into a new object per header (an object spread per header): in the history's rebuild, its record decoding was
 * about an eighth of the process's busy time (bench/README.md, "Twenty-sixth run").
 *
 * `installFetchDecoder()` puts it in front of KafkaJS's Fetch responses (versions 4 to 11, which share one
 * decoder of a partition's record set) for the whole process. A record set it does not handle exactly
 * (compression, the old message sets, offsets or timestamps beyond 2^53, anything malformed) goes through
 * KafkaJS's own decoder, which decodes it or fails as it always did. Aborted transactions, control records,
 * offsets: all KafkaJS's as before.
 */
import { createRequire } from 'node:module';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));

/** A fetched message as KafkaJS's record decoder returns it. */
export interface FetchedRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | Array<Buffer | null>>;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

/** What KafkaJS puts in every record's `batchContext` (one object per batch). */
export interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
  magicByte: number;
}

/** The part of KafkaJS's Decoder that a Fetch response hands to the record-set decoder. */
export interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt32(): number;
  canReadBytes(n: number): boolean;
  readBytes(n?: number): Buffer | null;
}

type RecordSetDecoder = (decoder: KafkajsDecoder) => Promise<unknown[]> | unknown[];

/** Thrown inside: this record set goes to KafkaJS's decoder instead. */
class NotHandled extends Error {}
const notHandled = new NotHandled('not handled');

const MAGIC_OFFSET = 16;
const RECORD_BATCH_OVERHEAD = 49;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;
const TIMESTAMP_TYPE_FLAG = 0x08;
const COMPRESSION_MASK = 0x07;
const CREATE_TIME = 0;
const LOG_APPEND_TIME = 1;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** An int64 as a Number, where it is one exactly. */
function safeNumber(v: bigint): number {
  if (v > MAX_SAFE || v < MIN_SAFE) throw notHandled;
  return Number(v);
}

/**
 * The record batches of one partition's record set (the bytes after its int32 size), in KafkaJS's form. A partial
 * batch at the end (the fetch's byte limit cut it) ends the set, as in KafkaJS. Throws NotHandled for whatever is
 * not an uncompressed magic-2 batch decodable exactly with Numbers.
 */
export function decodeRecordBatches(buf: Buffer): FetchedRecord[] {
  if (buf.length <= MAGIC_OFFSET || buf[MAGIC_OFFSET] !== 2) throw notHandled;
  const out: FetchedRecord[] = [];
  let pos = 0;
  let p = 0;

  // Zigzag varints, as KafkaJS reads them (a record's lengths and deltas).
  const varInt = (): number => {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      if (p >= buf.length || shift > 28) throw notHandled;
      b = buf[p++]!;
      result += (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80);
    return (result >>> 1) ^ -(result & 1);
  };
  const varLong = (): number => {
    let result = 0;
    let scale = 1;
    let b: number;
    do {
      if (p >= buf.length) throw notHandled;
      b = buf[p++]!;
      result += (b & 0x7f) * scale;
      scale *= 128;
    } while (b >= 0x80);
    if (result > Number.MAX_SAFE_INTEGER) throw notHandled;
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  };
  const varBytes = (): Buffer | null => {
    const n = varInt();
    if (n === -1) return null;
    if (n < 0 || p + n > buf.length) throw notHandled;
    const v = buf.subarray(p, p + n);
    p += n;
    return v;
  };

  // Header names repeat from record to record: the name last read at the same place is taken again when its bytes
  // are the same (ASCII names, compared byte for byte), instead of a new string decoded each time.
  const names: string[] = [];
  const headerName = (h: number, length: number): string => {
    const last = names[h];
    if (last !== undefined && last.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (last.charCodeAt(i) !== buf[p + i]) {
          same = false;
          break;
        }
      }
      if (same) return last;
    }
    const name = buf.toString('utf8', p, p + length);
    if (/^[\x00-\x7f]*$/.test(name)) names[h] = name;
    return name;
  };

  while (buf.length - pos >= RECORD_BATCH_OVERHEAD) {
    const firstOffsetBig = buf.readBigInt64BE(pos);
    const length = buf.readInt32BE(pos + 8);
    const b = pos + 12;
    if (length < 0) throw notHandled;
    if (buf.length - b < length) break; // a partial batch: the fetch's limit cut it
    const end = b + length;
    pos = end;
    if (length < RECORD_BATCH_OVERHEAD - 12) throw notHandled;
    const magicByte = buf.readInt8(b + 4);
    const attributes = buf.readInt16BE(b + 9);
    if ((attributes & COMPRESSION_MASK) !== 0) throw notHandled;
    const firstOffset = safeNumber(firstOffsetBig);
    const firstTimestampBig = buf.readBigInt64BE(b + 15);
    const firstTimestamp = safeNumber(firstTimestampBig);
    const timestampType = (attributes & TIMESTAMP_TYPE_FLAG) > 0 ? LOG_APPEND_TIME : CREATE_TIME;
    const isControlBatch = (attributes & CONTROL_FLAG) > 0;
    const batchContext: BatchContext = {
      firstOffset: firstOffsetBig.toString(),
      firstTimestamp: firstTimestampBig.toString(),
      partitionLeaderEpoch: buf.readInt32BE(b),
      inTransaction: (attributes & TRANSACTIONAL_FLAG) > 0,
      isControlBatch,
      lastOffsetDelta: buf.readInt32BE(b + 11),
      producerId: buf.readBigInt64BE(b + 31).toString(),
      producerEpoch: buf.readInt16BE(b + 39),
      firstSequence: buf.readInt32BE(b + 41),
      maxTimestamp: buf.readBigInt64BE(b + 23).toString(),
      timestampType,
      magicByte,
    };
    const count = buf.readInt32BE(b + 45);
    if (count < -1) throw notHandled;
    p = b + 49;
    for (let i = 0; i < count; i++) {
      const recordLength = varInt();
      const recordEnd = p + recordLength;
      if (recordLength < 1 || recordEnd > end) throw notHandled;
      const recordAttributes = buf.readInt8(p++);
      const timestampDelta = varLong();
      const offsetDelta = varInt();
      const key = varBytes();
      const value = varBytes();
      const headerCount = varInt();
      const headers: FetchedRecord['headers'] = {};
      for (let h = 0; h < headerCount; h++) {
        const keyLength = varInt();
        if (keyLength < 0 || p + keyLength > buf.length) throw notHandled; // a null key too: KafkaJS names it "null"
        const headerKey = headerName(h, keyLength);
        p += keyLength;
        const headerValue = varBytes();
        // Own properties only: KafkaJS's fold also finds Object.prototype's members (a header named `toString`
        // became an array with a function in it), the one way the two decoders' messages differ.
        const prior = Object.prototype.hasOwnProperty.call(headers, headerKey) ? headers[headerKey] : undefined;
        const next = prior === undefined ? headerValue : Array.isArray(prior) ? prior.concat([headerValue]) : [prior, headerValue];
        if (headerKey === '__proto__') Object.defineProperty(headers, headerKey, { value: next, enumerable: true, writable: true, configurable: true });
        else headers[headerKey] = next;
      }
      if (p > recordEnd) throw notHandled;
      p = recordEnd;
      const timestamp = timestampType === LOG_APPEND_TIME ? batchContext.maxTimestamp : firstTimestamp + timestampDelta;
      if (typeof timestamp === 'number' && !Number.isSafeInteger(timestamp)) throw notHandled;
      out.push({
        magicByte,
        attributes: recordAttributes,
        timestamp: String(timestamp),
        offset: String(firstOffset + offsetDelta),
        key,
        value,
        headers,
        isControlRecord: isControlBatch,
        batchContext,
      });
    }
  }
  return out;
}

/**
 * A Fetch response's record-set decoder that tries decodeRecordBatches first and hands KafkaJS's `original` the
 * record sets it does not handle, from where it found them.
 */
export function withFastRecordSets(original: RecordSetDecoder): RecordSetDecoder {
  return (decoder) => {
    const start = decoder.offset;
    const size = decoder.readInt32();
    if (size <= 0 || !decoder.canReadBytes(size)) return [];
    const bytes = decoder.readBytes(size);
    try {
      return decodeRecordBatches(bytes!);
    } catch {
      decoder.offset = start;
      return original(decoder);
    }
  };
}

const DECODER_PATH = './src/protocol/requests/fetch/v4/decodeMessages';
/** The responses that take the record-set decoder when they are loaded (KafkaJS loads them at a fetch's first use). */
const USERS = [4, 5, 6, 7, 8, 9, 10, 11].map((v) => `./src/protocol/requests/fetch/v${v}/response`);

let installed = false;

/**
 * Puts `withFastRecordSets` in front of KafkaJS's record-set decoder for every Fetch of this process. It must run
 * before the process's first fetch (`createKafka` runs it). Returns false, changing nothing, when KafkaJS's module
 * is not where 2.2 keeps it, or when a Fetch response has been loaded already (it holds the decoder it found).
 */
export function installFetchDecoder(): boolean {
  if (installed) return true;
  let path: string;
  let original: unknown;
  try {
    path = kafkajsRequire.resolve(DECODER_PATH);
    if (USERS.some((u) => kafkajsRequire.cache[kafkajsRequire.resolve(u)] !== undefined)) return false;
    original = kafkajsRequire(DECODER_PATH);
  } catch {
    return false;
  }
  const cached = kafkajsRequire.cache[path];
  if (typeof original !== 'function' || !cached) return false;
  cached.exports = withFastRecordSets(original as RecordSetDecoder);
  installed = true;
  return true;
}
