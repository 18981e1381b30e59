import { createRequire } from 'node:module';
import { mulberry32 as rng } from '@alertbus/spec';
import { decodeRecordBatches, installFetchDecoder, withFastRecordSets, type KafkajsDecoder } from './fetch-decoding';

// KafkaJS's own encoders and decoder, to compare against.
const kafkajs = createRequire(require.resolve('kafkajs'));
type Long = { toString(): string };
const Long = kafkajs('./src/utils/long') as { fromValue(v: unknown): Long; fromInt(v: number): Long };
const { RecordBatch } = kafkajs('./src/protocol/recordBatch/v0') as { RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const Record = kafkajs('./src/protocol/recordBatch/record/v0') as (args: Record<string, unknown>) => unknown;
const MessageSet = kafkajs('./src/protocol/messageSet') as (args: Record<string, unknown>) => { buffer: Buffer };
const Decoder = kafkajs('./src/protocol/decoder') as new (b: Buffer) => KafkajsDecoder;
const theirDecodeMessages = kafkajs('./src/protocol/requests/fetch/v4/decodeMessages') as (d: KafkajsDecoder) => Promise<unknown[]>;

/** Text of up to `max` characters, some of them multi-byte, from a seeded generator (a failure names its seed). */
function text(r: () => number, max: number): string {
  const pieces = ['x', 'Q', '7', '-', 'ü', '→', '🔥', '\\', '\t', '{'];
  return Array.from({ length: Math.floor(r() * max) }, () => pieces[Math.floor(r() * pieces.length)]!).join('');
}

interface BatchSpec {
  firstOffset: number | bigint;
  firstTimestamp: number;
  transactional?: boolean;
  /** Attribute bits set after encoding (KafkaJS's encoder writes neither): 0x20 control, 0x08 log-append time. */
  extraAttributes?: number;
  records: Array<Record<string, unknown>>;
  compression?: number;
}

/** One record batch as the broker sends it: first offset, length, the batch. */
async function batch(spec: BatchSpec): Promise<Buffer> {
  const buf = (
    await RecordBatch({
      firstOffset: Long.fromValue(spec.firstOffset.toString()),
      firstTimestamp: spec.firstTimestamp,
      maxTimestamp: spec.firstTimestamp + 5_000,
      lastOffsetDelta: spec.records.length - 1,
      transactional: spec.transactional ?? false,
      producerId: Long.fromValue(spec.transactional ? 4_321 : -1),
      producerEpoch: spec.transactional ? 3 : 0,
      firstSequence: 17,
      partitionLeaderEpoch: 2,
      compression: spec.compression ?? 0,
      records: spec.records.map((r) => Record(r)),
    })
  ).buffer;
  if (spec.extraAttributes) buf.writeInt16BE(buf.readInt16BE(21) | spec.extraAttributes, 21);
  return buf;
}

function randomRecords(r: () => number, n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => {
    const headers: Record<string, Buffer | Buffer[]> = {};
    const h = Math.floor(r() * 4);
    for (let k = 0; k < h; k++) headers[`h${k}-${text(r, 4)}`] = Buffer.from(text(r, 30));
    if (r() < 0.2) headers['dup'] = [Buffer.from('one'), Buffer.from(text(r, 5))];
    return {
      offsetDelta: i,
      timestampDelta: Long.fromValue(Math.floor((r() - 0.3) * 100_000)),
      key: r() < 0.15 ? null : Buffer.from(text(r, 40)),
      value: r() < 0.1 ? null : Buffer.from(text(r, 2_000)),
      headers,
    };
  });
}

/** A partition's record set as a Fetch response holds it: its int32 size, then the bytes. */
function recordSet(bytes: Buffer): Buffer {
  const out = Buffer.alloc(4 + bytes.length);
  out.writeInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

async function theirs(bytes: Buffer): Promise<unknown[]> {
  return theirDecodeMessages(new Decoder(recordSet(bytes)));
}

describe('decodeRecordBatches', () => {
  test('gives the messages KafkaJS gives, for random batches (offsets, timestamps, null keys and values, headers, duplicates)', async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const r = rng(seed);
      const batches: Buffer[] = [];
      let offset = seed === 3 ? 2 ** 40 : Math.floor(r() * 1_000_000);
      for (let b = 0; b < 1 + Math.floor(r() * 4); b++) {
        const records = randomRecords(r, 1 + Math.floor(r() * 30));
        batches.push(await batch({ firstOffset: offset, firstTimestamp: 1_764_000_000_000 + Math.floor(r() * 1e9), transactional: r() < 0.5, records }));
        offset += records.length;
      }
      const bytes = Buffer.concat(batches);
      const mine = decodeRecordBatches(bytes);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine).toEqual(await theirs(bytes));
    }
  });

  test('control batches, log-append time and a batch cut short by the fetch limit come out as KafkaJS has them', async () => {
    const r = rng(99);
    const data = await batch({ firstOffset: 500, firstTimestamp: 1_764_000_000_000, transactional: true, records: randomRecords(r, 5) });
    const control = await batch({
      firstOffset: 505,
      firstTimestamp: 1_764_000_000_100,
      transactional: true,
      extraAttributes: 0x20,
      records: [{ offsetDelta: 0, timestampDelta: Long.fromInt(0), key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 7]) }],
    });
    const appended = await batch({ firstOffset: 506, firstTimestamp: 1_764_000_000_200, extraAttributes: 0x08, records: randomRecords(r, 3) });
    const bytes = Buffer.concat([data, control, appended, appended.subarray(0, appended.length - 10)]);
    const mine = decodeRecordBatches(bytes);
    expect(mine.map((m) => [m.offset, m.isControlRecord])).toEqual([
      ['500', false], ['501', false], ['502', false], ['503', false], ['504', false], ['505', true], ['506', false], ['507', false], ['508', false],
    ]);
    expect(mine[6]!.timestamp).toBe(String(1_764_000_000_200 + 5_000)); // log-append time: the batch's max timestamp
    expect(mine[0]!.batchContext).toMatchObject({ producerId: '4321', producerEpoch: 3, inTransaction: true, isControlBatch: false, firstSequence: 17 });
    expect(mine).toEqual(await theirs(bytes));
  });
});

test('a header name is decoded again when it differs from the last one at its place, even where the UTF-16 and the bytes could pass for each other', async () => {
  // Record 1's header "ü" is one UTF-16 unit, 252; record 2's is the single byte 252, which is not UTF-8 (U+FFFD).
  const bytes = await batch({
    firstOffset: 0,
    firstTimestamp: 1_764_000_000_000,
    records: [
      { offsetDelta: 0, timestampDelta: Long.fromInt(0), key: null, value: Buffer.from('a'), headers: { ü: Buffer.from('first') } },
      { offsetDelta: 1, timestampDelta: Long.fromInt(0), key: null, value: Buffer.from('b'), headers: { Z: Buffer.from('second') } },
    ],
  });
  const at = bytes.indexOf(Buffer.from([0x02, 0x5a, 0x0c]));
  expect(at).toBeGreaterThan(0);
  bytes[at + 1] = 0xfc;
  const mine = decodeRecordBatches(bytes);
  expect(Object.keys(mine[0]!.headers)).toEqual(['ü']);
  expect(Object.keys(mine[1]!.headers)).toEqual(['\ufffd']);
  expect(mine).toEqual(await theirs(bytes));
});

describe('withFastRecordSets', () => {
  const decode = withFastRecordSets(theirDecodeMessages);

  async function both(bytes: Buffer): Promise<{ mine: unknown; theirs: unknown; mineOffset: number; theirOffset: number }> {
    const a = new Decoder(Buffer.concat([recordSet(bytes), Buffer.from('after')]));
    const b = new Decoder(Buffer.concat([recordSet(bytes), Buffer.from('after')]));
    const settle = async (f: () => unknown) => {
      try {
        return await f();
      } catch (err) {
        return { threw: (err as Error).message };
      }
    };
    return { mine: await settle(() => decode(a)), theirs: await settle(() => theirDecodeMessages(b)), mineOffset: a.offset, theirOffset: b.offset };
  }

  test('hands KafkaJS what it does not decode itself, from where it found it: compression, old message sets, offsets past 2^53', async () => {
    const r = rng(7);
    const gzip = await batch({ firstOffset: 10, firstTimestamp: 1_764_000_000_000, records: randomRecords(r, 4), compression: 1 });
    const legacy = MessageSet({ messageVersion: 1, entries: [{ key: 'k', value: 'v', timestamp: 1_764_000_000_000 }, { key: null, value: 'w', timestamp: 1_764_000_000_001 }] }).buffer;
    const huge = await batch({ firstOffset: 2n ** 60n, firstTimestamp: 1_764_000_000_000, records: randomRecords(r, 2) });
    for (const bytes of [gzip, legacy, huge]) {
      const { mine, theirs: expected, mineOffset, theirOffset } = await both(bytes);
      expect(Array.isArray(mine) && mine.length).toBeGreaterThan(0);
      expect(mine).toEqual(expected);
      expect(mineOffset).toBe(theirOffset);
    }
    expect(() => decodeRecordBatches(gzip)).toThrow();
  });

  test('a malformed record set fails or decodes exactly as it does in KafkaJS', async () => {
    const r = rng(11);
    const good = await batch({ firstOffset: 0, firstTimestamp: 1_764_000_000_000, records: randomRecords(r, 6) });
    const cases: Buffer[] = [];
    // A record's length pointing past its batch.
    const longRecord = Buffer.from(good);
    longRecord[61] = 0x7e;
    cases.push(longRecord);
    // The last record's length a few bytes short of its fields (its varint rewritten in as many bytes).
    const shortRecord = Buffer.from(good);
    let at = 61;
    for (let i = 0; i < 5; i++) {
      const { value, size } = zigzagVarInt(shortRecord, at);
      at += size + value;
    }
    const { value: length, size } = zigzagVarInt(shortRecord, at);
    expect(at + size + length).toBe(good.length);
    expect(zigzagVarInt(writeZigzagVarInt(Buffer.alloc(size), length - 3), 0).size).toBe(size);
    writeZigzagVarInt(shortRecord, length - 3, at);
    cases.push(shortRecord);
    // A record count larger than the records there.
    const moreRecords = Buffer.from(good);
    moreRecords.writeInt32BE(60, 57);
    cases.push(moreRecords);
    for (let i = 0; i < 20; i++) {
      const bent = Buffer.from(good);
      bent[61 + Math.floor(r() * (bent.length - 61))] = Math.floor(r() * 256);
      cases.push(bent);
    }
    for (const bytes of cases) {
      const { mine, theirs: expected, mineOffset, theirOffset } = await both(bytes);
      expect(mine).toEqual(expected);
      expect(mineOffset).toBe(theirOffset);
    }
  });

  test('an empty or truncated record set is no messages, as in KafkaJS', async () => {
    for (const raw of [Buffer.alloc(4), Buffer.from([0, 0, 0, 9, 1, 2])]) {
      const a = new Decoder(raw);
      const b = new Decoder(raw);
      expect(await decode(a)).toEqual(await theirDecodeMessages(b));
      expect(a.offset).toBe(b.offset);
    }
  });
});

describe('installFetchDecoder', () => {
  test("puts the one-pass decoder in front of every Fetch response's record sets", async () => {
    expect(installFetchDecoder()).toBe(true);
    const installedDecoder = kafkajs('./src/protocol/requests/fetch/v4/decodeMessages') as (d: KafkajsDecoder) => unknown;
    expect(installedDecoder).not.toBe(theirDecodeMessages);
    // The Fetch response that KafkaJS uses with a current broker (v11) now decodes through it.
    const response = kafkajs('./src/protocol/requests/fetch/v11/response') as { decode: (b: Buffer) => Promise<{ responses: Array<{ partitions: Array<{ messages: unknown[] }> }> }> };
    const bytes = await batch({ firstOffset: 3, firstTimestamp: 1_764_000_000_000, records: randomRecords(rng(5), 3) });
    const body = fetchV11Response('t', 0, recordSet(bytes));
    const decoded = await response.decode(body);
    expect(decoded.responses[0]!.partitions[0]!.messages).toEqual(decodeRecordBatches(bytes));
    expect(decoded.responses[0]!.partitions[0]!.messages).toEqual(await theirs(bytes));
  });
});

function zigzagVarInt(buf: Buffer, at: number): { value: number; size: number } {
  let result = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = buf[i++]!;
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) break;
  }
  return { value: result % 2 === 0 ? result / 2 : -(result + 1) / 2, size: i - at };
}

function writeZigzagVarInt(buf: Buffer, value: number, at = 0): Buffer {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  let i = at;
  while (v >= 0x80) {
    buf[i++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[i] = v;
  return buf;
}

/** A Fetch v11 response body with one topic and one partition, holding `records` (its int32 size first). */
function fetchV11Response(topic: string, partition: number, records: Buffer): Buffer {
  const parts: Buffer[] = [];
  const int32 = (v: number) => { const b = Buffer.alloc(4); b.writeInt32BE(v); parts.push(b); };
  const int16 = (v: number) => { const b = Buffer.alloc(2); b.writeInt16BE(v); parts.push(b); };
  const int64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigInt64BE(v); parts.push(b); };
  int32(0); // throttle time
  int16(0); // error code
  int32(0); // session id
  int32(1); // topics
  int16(Buffer.byteLength(topic));
  parts.push(Buffer.from(topic));
  int32(1); // partitions
  int32(partition);
  int16(0);
  int64(6n); // high watermark
  int64(6n); // last stable offset
  int64(0n); // log start offset
  int32(0); // aborted transactions
  int32(-1); // preferred read replica
  parts.push(records);
  return Buffer.concat(parts);
}
