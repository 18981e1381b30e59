import { createRequire } from 'node:module';
import { groupMessagesPerPartition } from './message-grouping';
import { Murmur2Partitioner } from './partitioner';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));
// KafkaJS's own, loaded from its file (jest's module registry has its own copy: the install does not reach it here).
const kafkajsGrouping = kafkajsRequire('./src/producer/groupMessagesPerPartition') as typeof groupMessagesPerPartition;

describe('groupMessagesPerPartition', () => {
  const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 1 }));
  const partitioner = Murmur2Partitioner();

  it('groups as KafkaJS does: the same partitions, in the same order, each with its messages in call order', () => {
    const messages = [
      ...Array.from({ length: 2_500 }, (_, i) => ({ key: `alertmanager:a${i % 700}`, value: `v${i}` })),
      ...Array.from({ length: 40 }, (_, i) => ({ key: `s${i}`, value: `explicit ${i}`, partition: (i * 7) % 6 })),
      { key: null, value: 'no key' },
    ];
    // A partitioner of its own for each, whose round robin for messages without a key starts at the same place.
    const counting = () => {
      let n = 0;
      return (a: { topic: string; partitionMetadata: unknown[]; message: (typeof messages)[number] }) => (a.message.key === null ? n++ % 6 : partitioner(a as never));
    };
    const ours = groupMessagesPerPartition({ topic: 'incidents.v1', partitionMetadata, messages, partitioner: counting() });
    const theirs = kafkajsGrouping({ topic: 'incidents.v1', partitionMetadata, messages, partitioner: counting() });
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    for (const p of Object.keys(theirs)) expect(ours[Number(p)]).toEqual(theirs[Number(p)]);
    expect(ours).toEqual(theirs);
  });

  it('answers an empty object without partitions, and for no messages', () => {
    const p = partitioner as never;
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ key: 'a', value: 'b' }], partitioner: p })).toEqual({});
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata, messages: [], partitioner: p })).toEqual(kafkajsGrouping({ topic: 't', partitionMetadata, messages: [], partitioner: p }));
  });
});

describe('installMessageGrouping in a process of its own', () => {
  // Outside jest's module registry, as the services run: loading the package puts the in-place grouping where
  // KafkaJS's producer takes its own. If a KafkaJS upgrade moved the file, this says so instead of the grouping
  // silently falling back.
  it("is what KafkaJS's producer loads once the package is imported", () => {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const path = require('node:path') as typeof import('node:path');
    const script = `
      const kafka = require(${JSON.stringify(path.join(__dirname, 'index.ts'))});
      const { createRequire } = require('node:module');
      const r = createRequire(require.resolve('kafkajs'));
      r('./src/producer/sendMessages');
      const loaded = r('./src/producer/groupMessagesPerPartition');
      console.log(JSON.stringify({ installed: kafka.installMessageGrouping(), same: loaded === require(${JSON.stringify(path.join(__dirname, 'message-grouping.ts'))}).groupMessagesPerPartition }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: path.join(__dirname, '..', '..', '..'), encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ installed: true, same: true });
  });
});
