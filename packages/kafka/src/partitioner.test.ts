import { createRequire } from 'node:module';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { murmur2, Murmur2Partitioner } from './partitioner';

const kafkajsMurmur2 = createRequire(require.resolve('kafkajs'))('./src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;

/** A small deterministic generator, so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

it('hashes every key as KafkaJS (and the Java client) does', () => {
  const r = rng(3);
  const differ: string[] = [];
  for (let n = 0; n < 5000; n++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(r() * 70) }, () => Math.floor(r() * 256)));
    const text = `alertmanager:${bytes.toString('base64')}€${n}`;
    if (murmur2(bytes) !== kafkajsMurmur2(bytes)) differ.push(bytes.toString('hex'));
    if (murmur2(text) !== kafkajsMurmur2(text)) differ.push(text);
  }
  expect(differ).toEqual([]);
  // The Java client's values (Utils.murmur2 of the UTF-8 bytes).
  expect(murmur2('21')).toBe(-973932308);
  expect(murmur2('foobar')).toBe(-790332482);
});

it('puts a keyed record on the partition KafkaJS\'s DefaultPartitioner puts it on', () => {
  const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 1 }) as PartitionMetadata);
  const ours = Murmur2Partitioner();
  const theirs = Partitioners.DefaultPartitioner();
  for (let i = 0; i < 500; i++) {
    const message = { key: `generic:alias-${i}`, value: null };
    expect(ours({ topic: 't', partitionMetadata, message })).toBe(theirs({ topic: 't', partitionMetadata, message }));
  }
  expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: null, partition: 4 } })).toBe(4);
});
