import { createRequire } from 'node:module';
import { crc32c, encodeProduceRequest, installProduceEncoder, type ProduceArgs, type ProduceMessage } from './produce-encoding';

// KafkaJS's own encoders, to compare against byte for byte.
const kafkajs = createRequire(require.resolve('kafkajs'));
const ProduceV3 = kafkajs('./src/protocol/requests/produce/v3/request') as (args: ProduceArgs) => { encode: () => Promise<{ buffer: Buffer }> };
const Long = kafkajs('./src/utils/long') as { fromValue(v: unknown): { value: bigint }; fromInt(v: number): { value: bigint } };
const kafkajsCrc32C = kafkajs('./src/protocol/recordBatch/crc32C') as (b: Buffer) => number;

const NOW = 1_764_000_000_123;

async function theirs(args: ProduceArgs): Promise<Buffer> {
  const spy = jest.spyOn(Date, 'now').mockReturnValue(NOW);
  try {
    return (await ProduceV3(args).encode()).buffer;
  } finally {
    spy.mockRestore();
  }
}

/** A small deterministic generator, so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function text(r: () => number, max: number): string {
  const alphabet = ['a', 'Z', '9', ' ', 'é', '€', '𝄞', '"', '\n', 'ß'];
  let out = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) out += alphabet[Math.floor(r() * alphabet.length)]!;
  return out;
}

function message(r: () => number, i: number): ProduceMessage {
  const bytes = (max: number) => (r() < 0.3 ? Buffer.from(text(r, max)) : text(r, max));
  const m: ProduceMessage = {
    key: r() < 0.1 ? null : bytes(40),
    value: r() < 0.05 ? null : bytes(r() < 0.2 ? 3000 : 300),
  };
  const t = r();
  if (t < 0.6) m.timestamp = String(NOW - Math.floor(r() * 100_000) + i);
  else if (t < 0.8) m.timestamp = NOW + Math.floor(r() * 1000);
  if (r() < 0.8) {
    m.headers = { 'event-type': 'AlertReceived', 'event-id': bytes(36), ...(r() < 0.3 ? { multi: ['a', Buffer.from('b€')] } : {}) };
  }
  return m;
}

function request(r: () => number, overrides: Partial<ProduceArgs> = {}): ProduceArgs {
  const topics = 1 + Math.floor(r() * 3);
  return {
    acks: -1,
    timeout: 30_000,
    producerId: Long.fromValue(String(Math.floor(r() * 1e12))),
    producerEpoch: Math.floor(r() * 30),
    topicData: Array.from({ length: topics }, (_, t) => ({
      topic: `alerts.received.v${t}`,
      partitions: Array.from({ length: 1 + Math.floor(r() * 6) }, (_, p) => ({
        partition: p,
        firstSequence: Math.floor(r() * 100_000),
        messages: Array.from({ length: 1 + Math.floor(r() * 40) }, (_, i) => message(r, i)),
      })),
    })),
    ...overrides,
  };
}

describe('encodeProduceRequest', () => {
  it.each(Array.from({ length: 40 }, (_, seed) => seed))('writes what KafkaJS writes (seed %i)', async (seed) => {
    const args = request(rng(seed));
    expect(encodeProduceRequest(args, Long, NOW)!.equals(await theirs(args))).toBe(true);
  });

  it('writes what KafkaJS writes for a transactional producer and without any timestamp', async () => {
    const r = rng(99);
    const args = request(r, { transactionalId: 'router-0' });
    for (const t of args.topicData) for (const p of t.partitions) for (const m of p.messages) delete m.timestamp;
    expect(encodeProduceRequest(args, Long, NOW)!.equals(await theirs(args))).toBe(true);
  });

  it('writes what KafkaJS writes for the records ingest sends', async () => {
    const value = JSON.stringify({ id: 'x', data: { title: 'disk full', raw: { labels: { instance: 'host-1' } } } });
    const args: ProduceArgs = {
      acks: -1,
      timeout: 30_000,
      producerId: Long.fromInt(4001),
      producerEpoch: 0,
      topicData: [
        {
          topic: 'alerts.received.v1',
          partitions: [
            {
              partition: 3,
              firstSequence: 17,
              messages: [
                { key: 'alertmanager:abc', value, timestamp: String(NOW), headers: { 'event-type': 'AlertReceived', 'event-id': 'id-1', 'schema-version': '1' } },
                { key: 'alertmanager:def', value, timestamp: String(NOW + 1), headers: { 'event-type': 'AlertReceived', 'event-id': 'id-2', 'schema-version': '1' } },
              ],
            },
          ],
        },
      ],
    };
    expect(encodeProduceRequest(args, Long, NOW)!.equals(await theirs(args))).toBe(true);
  });

  it('leaves to KafkaJS what it would not write the same way', () => {
    const base = request(rng(7));
    const oneMessage = (m: ProduceMessage): ProduceArgs => ({ ...base, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [m] }] }] });
    expect(encodeProduceRequest({ ...base, compression: 1 }, Long, NOW)).toBeNull();
    expect(encodeProduceRequest(oneMessage({ value: 'v', timestamp: '1.5' }), Long, NOW)).toBeNull();
    expect(encodeProduceRequest(oneMessage({ value: 'v', timestamp: 'soon' }), Long, NOW)).toBeNull();
    expect(encodeProduceRequest(oneMessage({ value: 42 as never }), Long, NOW)).toBeNull();
    expect(encodeProduceRequest(oneMessage({ value: 'v', headers: { h: null as never } }), Long, NOW)).toBeNull();
    expect(encodeProduceRequest({ ...base, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [] }] }] }, Long, NOW)).toBeNull();
  });
});

describe('installProduceEncoder', () => {
  type Made = { request: { apiVersion: number; encode: () => Promise<{ buffer: Buffer; buf: Buffer; offset: number }> } };
  const produce = kafkajs('./src/protocol/requests/produce') as { protocol: (v: { version: number }) => (args: ProduceArgs) => Made };
  const framed = async (version: number, args: ProduceArgs) => {
    const spy = jest.spyOn(Date, 'now').mockReturnValue(NOW);
    try {
      const { request } = produce.protocol({ version })(args);
      const encoded = await request.encode();
      // KafkaJS's encoder grows its buffer in powers of two; the one-pass encoder's is exactly the request's size.
      return { version: request.apiVersion, bytes: encoded.buffer, onePass: encoded.buf.length === encoded.offset };
    } finally {
      spy.mockRestore();
    }
  };

  it('puts the one-pass encoder in front of versions 3 to 7 and leaves the rest, and compression, to KafkaJS', async () => {
    const plain = request(rng(21));
    const gzip = { ...request(rng(22)), compression: 1 };
    const before = await Promise.all([3, 7].map((v) => framed(v, plain)));
    const gzipBefore = await framed(7, gzip);
    expect(before.map((b) => b.onePass)).toEqual([false, false]);
    expect(installProduceEncoder()).toBe(true);
    expect(installProduceEncoder()).toBe(true); // once
    const after = await Promise.all([3, 7].map((v) => framed(v, plain)));
    expect(after.map((a) => [a.version, a.onePass])).toEqual([
      [3, true],
      [7, true],
    ]);
    for (const [i, a] of after.entries()) expect(a.bytes.equals(before[i]!.bytes)).toBe(true);
    expect(after[0]!.bytes.equals(encodeProduceRequest(plain, Long, NOW)!)).toBe(true);
    const gzipAfter = await framed(7, gzip);
    expect(gzipAfter.onePass).toBe(false);
    expect(gzipAfter.bytes.equals(gzipBefore.bytes)).toBe(true);
  });
});

describe('crc32c', () => {
  it('gives the check value of CRC-32C', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('agrees with KafkaJS over every length and offset', () => {
    const r = rng(5);
    const buf = Buffer.from(Array.from({ length: 300 }, () => Math.floor(r() * 256)));
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= buf.length; end += 1 + Math.floor(r() * 7)) {
        expect(crc32c(buf, start, end)).toBe(kafkajsCrc32C(buf.subarray(start, end)));
      }
    }
  });
});
