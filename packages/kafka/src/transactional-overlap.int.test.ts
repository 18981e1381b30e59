/**
 * One transaction's records and offsets are in flight together: the processor asks the coordinator to add the
 * consumed offsets to the transaction (AddOffsetsToTxn) without waiting for its records to be written (Produce
 * answered), so a transaction costs three sequential steps instead of five. Watched on the wire: the client's
 * connections go through a socket factory that logs every request written and every answer read, in the order the
 * client saw them. Nothing on the broker's side is changed.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { ISocketFactory, Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { createKafka } from './client';
import { TransactionalProcessor, type TransactionInfo } from './transactional';

const log = createLogger('txn-overlap-test', process.env.TXN_TEST_LOG ?? 'silent');

/** Kafka's API keys of a transaction's requests. */
const API = { Produce: 0, AddPartitionsToTxn: 24, AddOffsetsToTxn: 25, EndTxn: 26, TxnOffsetCommit: 28 } as const;
const NAME = new Map<number, string>(Object.entries(API).map(([name, key]) => [key, name]));

interface WireEvent {
  connection: number;
  what: 'request' | 'answer';
  api: string;
}

/** Every connection's requests written and answers read, in the order the client wrote and read them. */
function watchingSocketFactory(events: WireEvent[]): ISocketFactory {
  let connections = 0;
  return ({ host, port, onConnect }) => {
    const connection = ++connections;
    const socket: Socket = connect({ host, port }, onConnect);
    // Correlation ids are per connection: the API each request of this connection was.
    const apiOf = new Map<number, number>();
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    (socket as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
      const chunk = args[0];
      // KafkaJS writes each request whole: size, api key, api version, correlation id, ...
      if (Buffer.isBuffer(chunk) && chunk.length >= 12) {
        const api = chunk.readInt16BE(4);
        apiOf.set(chunk.readInt32BE(8), api);
        events.push({ connection, what: 'request', api: NAME.get(api) ?? String(api) });
      }
      return write(...args);
    };
    // Registered before KafkaJS's own listener: an answer is logged in the same chunk KafkaJS reads it from.
    let buffered = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      while (buffered.length >= 8 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const api = apiOf.get(buffered.readInt32BE(4));
        events.push({ connection, what: 'answer', api: api === undefined ? '?' : (NAME.get(api) ?? String(api)) });
        buffered = buffered.subarray(4 + buffered.readInt32BE(0));
      }
    });
    return socket;
  };
}

let events: WireEvent[];
let kafka: Kafka;
let input: string;
let output: string;

beforeAll(async () => {
  events = [];
  kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'txn-overlap-test', log, socketFactory: watchingSocketFactory(events) });
  input = `${TOPIC_PREFIX}overlap.in.${randomUUID().slice(0, 8)}`;
  output = `${TOPIC_PREFIX}overlap.out.${randomUUID().slice(0, 8)}`;
  await ensureTopics(kafka, [
    { name: input, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: output, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
  const producer = kafka.producer();
  await producer.connect();
  try {
    // One input, there before the processor starts: one transaction, with no transaction before it to wait for.
    await producer.send({ topic: input, acks: -1, messages: [{ key: 'k', value: 'one' }] });
  } finally {
    await producer.disconnect();
  }
});

test("a transaction's offsets go to the coordinator before its records are acknowledged, and it commits", async () => {
  const transactions: TransactionInfo[] = [];
  const errors: Error[] = [];
  const p = new TransactionalProcessor({
    kafka,
    groupId: `${TOPIC_PREFIX}overlap-${randomUUID().slice(0, 8)}`,
    topic: input,
    transactionalId: `${TOPIC_PREFIX}overlap-${randomUUID().slice(0, 8)}`,
    log,
    retry: { minBackoffMs: 100, maxBackoffMs: 500 },
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    handleBatch: (records) => ({ outputs: [{ topic: output, messages: records.map((r) => ({ key: r.key, value: `out:${r.value!.toString()}` })) }] }),
    onTransaction: (t) => transactions.push(t),
    onRetry: (err) => errors.push(err),
  });
  await p.start();
  try {
    await waitFor(() => transactions.reduce((n, t) => n + t.records, 0) >= 1, { timeoutMs: 90_000, what: 'the input committed' });
  } finally {
    await p.stop();
  }
  expect(errors).toEqual([]);
  expect(transactions).toHaveLength(1);
  expect((await readTopic(kafka, output)).map((r) => r.value)).toEqual(['out:one']);

  // The one transaction, on the connection that wrote its records.
  const produce = events.find((e) => e.what === 'request' && e.api === 'Produce' && events.some((o) => o.connection === e.connection && o.api === 'EndTxn'));
  expect(produce).toBeDefined();
  const wire = events.filter((e) => e.connection === produce!.connection && e.api !== '?').map((e) => `${e.what} ${e.api}`);
  process.stderr.write(`[txn overlap] the transaction's connection: ${wire.join(', ')}\n`);
  const offsetsAdded = wire.indexOf('request AddOffsetsToTxn');
  const recordsAcknowledged = wire.indexOf('answer Produce');
  expect(offsetsAdded).toBeGreaterThanOrEqual(0);
  expect(recordsAcknowledged).toBeGreaterThanOrEqual(0);
  // In flight together: the offsets were on their way before the records were acknowledged (one after the other,
  // AddOffsetsToTxn would only go out after the Produce answer).
  expect(offsetsAdded).toBeLessThan(recordsAcknowledged);
  // On the wire together too, not queued behind each other in the client (one request at a time per connection would
  // write AddOffsetsToTxn only once AddPartitionsToTxn was answered, and Produce once that was).
  let unanswered = 0;
  let mostUnanswered = 0;
  for (const step of events.filter((e) => e.connection === produce!.connection)) {
    unanswered += step.what === 'request' ? 1 : -1;
    mostUnanswered = Math.max(mostUnanswered, unanswered);
  }
  expect(mostUnanswered).toBeGreaterThanOrEqual(2);
  // And the commit only once both were answered.
  const committed = wire.indexOf('request EndTxn');
  expect(committed).toBeGreaterThan(recordsAcknowledged);
  expect(committed).toBeGreaterThan(wire.lastIndexOf('answer AddOffsetsToTxn'));
  const offsetCommitAnswered = events.findIndex((e) => e.what === 'answer' && e.api === 'TxnOffsetCommit');
  expect(offsetCommitAnswered).toBeGreaterThanOrEqual(0);
  expect(events.findIndex((e) => e.what === 'request' && e.api === 'EndTxn' && e.connection === produce!.connection)).toBeGreaterThan(offsetCommitAnswered);
});
