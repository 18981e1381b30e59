import { Partitioners } from 'kafkajs';
import { keyPartition, murmur2 } from './murmur2';

// Kafka's own expectations (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2).
test.each([
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
])('murmur2(%p) is %p, as in the Java client', (key, hash) => {
  expect(murmur2(Buffer.from(key))).toBe(hash);
});

test("every key lands on the partition KafkaJS's DefaultPartitioner gives it, for every partition count", () => {
  const partitioner = Partitioners.DefaultPartitioner();
  const keys = [
    '',
    'a',
    'ab',
    'abc',
    'alertmanager:5f1c0a',
    'slack:T01:C02:1712345678.000100',
    'générique:ünïcödé:🔥',
    ...Array.from({ length: 500 }, (_, i) => `alias-${i}-${'x'.repeat(i % 37)}`),
  ];
  const differences: string[] = [];
  for (const count of [1, 2, 3, 6, 12, 50]) {
    const partitionMetadata = Array.from({ length: count }, (_, p) => ({ partitionId: p, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    for (const key of keys) {
      const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
      const got = keyPartition(Buffer.from(key), count);
      if (got !== expected) differences.push(`${key} of ${count}: ${got} instead of ${expected}`);
    }
  }
  expect(differences).toEqual([]);
});
