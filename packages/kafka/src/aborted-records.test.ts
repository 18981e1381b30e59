import { createRequire } from 'node:module';
import { abortedRecords, dropAbortedRecords, type AbortedTransaction, type FetchedMessage } from './aborted-records';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));
/** KafkaJS's own read_committed filter, for comparison. */
const kafkajsFilter = kafkajsRequire('./src/consumer/filterAbortedMessages') as (args: { messages: FetchedMessage[]; abortedTransactions: AbortedTransaction[] }) => FetchedMessage[];

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);
const record = (offset: number, producerId: string, value: string): FetchedMessage & { value: string } => ({
  offset: String(offset),
  key: null,
  value,
  batchContext: { producerId, inTransaction: true },
});
const marker = (offset: number, producerId: string, key: Buffer): FetchedMessage & { value: string } => ({
  offset: String(offset),
  key,
  value: '',
  isControlRecord: true,
  batchContext: { producerId, inTransaction: true },
});
const values = (ms: FetchedMessage[]) => ms.filter((m) => !m.isControlRecord).map((m) => (m as FetchedMessage & { value: string }).value);

describe('read_committed: records of aborted transactions', () => {
  // Producer 1's transaction (offset 10) is open when producer 2's (11, 12) writes; both abort, then 1 writes again.
  const log = () => [record(10, '1', 'a1'), record(11, '2', 'b1'), record(12, '2', 'b2'), marker(13, '1', ABORT), marker(14, '2', ABORT), record(15, '1', 'a2'), marker(16, '1', COMMIT)];
  const aborted: AbortedTransaction[] = [
    { producerId: '1', firstOffset: '10' },
    { producerId: '2', firstOffset: '11' },
  ];

  test('a fetch from the second transaction\'s first record: KafkaJS passes that record on, the filter drops it', () => {
    const fetched = log().slice(1);
    expect(values(kafkajsFilter({ messages: fetched, abortedTransactions: aborted }))).toEqual(['b1', 'a2']);
    const dropped = abortedRecords(fetched, aborted);
    expect(values(fetched.filter((m) => !dropped.has(m)))).toEqual(['a2']);
  });

  test('the aborts listed in the order they were written (the later transaction first): KafkaJS passes the earlier one on', () => {
    const reversed = [aborted[1]!, aborted[0]!];
    expect(values(kafkajsFilter({ messages: log(), abortedTransactions: reversed }))).toContain('a1');
    const fetched = log();
    const dropped = abortedRecords(fetched, reversed);
    expect(values(fetched.filter((m) => !dropped.has(m)))).toEqual(['a2']);
  });

  test('a committed transaction after its producer\'s abort marker is kept, and a fetch without aborts is left alone', () => {
    const fetched = log();
    const dropped = abortedRecords(fetched, aborted);
    expect(values(fetched.filter((m) => !dropped.has(m)))).toEqual(['a2']);
    expect(abortedRecords(fetched, []).size).toBe(0);
  });

  test('dropAbortedRecords marks the aborted records as control records (KafkaJS skips them, offsets still count) and empties the list', () => {
    const partition = { abortedTransactions: [...aborted], messages: log().slice(1) };
    dropAbortedRecords(partition);
    expect(partition.abortedTransactions).toEqual([]);
    expect(values(kafkajsFilter({ messages: partition.messages, abortedTransactions: partition.abortedTransactions }))).toEqual(['a2']);
    expect(partition.messages.map((m) => m.offset)).toEqual(['11', '12', '13', '14', '15', '16']);
  });
});
