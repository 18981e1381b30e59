/**
 * The router's and a sink's Kafka hops alone (`npm run bench:transaction`): records written at a steady rate
 * (`BENCH_TX_RATE`/s for `BENCH_TX_S` s, 6 partitions) go through the transactional processor (one output per input,
 * pipelined `BENCH_TX_DEPTH` deep, 2 by default, every partition at once, as the router runs it) and are read committed
 * by a consume loop as the sinks run it. Prints input written → output read (p50, p99), the same per record split into
 * written → fetched by the processor, fetched → decided, decided → committed and committed → read, the processor's
 * mean stages per batch, and its producers' requests (count and mean time by API, from KafkaJS's request events).
 * Its own broker unless KAFKA_BROKERS is set.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { ConsumeLoop, createKafka, ensureTopics, startLocalBroker, TransactionalProcessor } from '@alertbus/kafka';

const RATE = Number(process.env.BENCH_TX_RATE ?? 50);
const SECONDS = Number(process.env.BENCH_TX_S ?? 15);
const PARTITIONS = 6;
const log = createLogger('bench-tx', process.env.BENCH_LOG_LEVEL ?? 'warn');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  let stopBroker: (() => Promise<void>) | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const broker = await startLocalBroker({});
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    stopBroker = () => broker.stop();
  }
  const brokers = process.env.KAFKA_BROKERS.split(',');
  const kafka = createKafka({ brokers, clientId: 'bench-tx-router', log });
  // Every request of the processor's transactional producers, answered or not (KafkaJS emits the event on the answer).
  const requests = new Map<string, { n: number; ms: number }>();
  const makeProducer = kafka.producer.bind(kafka);
  kafka.producer = (config) => {
    const producer = makeProducer(config);
    if (config?.transactionalId) {
      producer.on(producer.events.REQUEST, ({ payload }) => {
        const r = requests.get(payload.apiName) ?? { n: 0, ms: 0 };
        r.n += 1;
        r.ms += payload.duration;
        requests.set(payload.apiName, r);
      });
    }
    return producer;
  };
  const sinkKafka = createKafka({ brokers, clientId: 'bench-tx-sink', log });
  const inKafka = createKafka({ brokers, clientId: 'bench-tx-in', log });
  const id = randomUUID().slice(0, 8);
  const input = `${TOPIC_PREFIX}benchtx.in.${id}`;
  const output = `${TOPIC_PREFIX}benchtx.out.${id}`;
  await ensureTopics(kafka, [
    { name: input, partitions: PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: output, partitions: PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
  const stages = { n: 0, turn: 0, prep: 0, decide: 0, wait: 0, tx: 0 };
  const processor = new TransactionalProcessor({
    kafka,
    groupId: `bench-tx-${id}`,
    topic: input,
    transactionalId: `bench-tx-${id}`,
    log,
    pipelineDepth: Number(process.env.BENCH_TX_DEPTH ?? 2),
    partitionsConcurrently: PARTITIONS,
    handleBatch: (records, _partition, fetch) => {
      const decided = Date.now();
      for (const r of records) marks.set(r.key ?? '', { fetched: fetch.fetchedAt, decided, committed: 0 });
      return {
        outputs: [{ topic: output, messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })) }],
        onCommit: () => {
          const now = Date.now();
          for (const r of records) {
            const m = marks.get(r.key ?? '');
            if (m) m.committed = now;
          }
        },
      };
    },
    onTransaction: (t) => {
      stages.n += 1;
      stages.turn += t.stages.turnWaitMs;
      stages.prep += t.stages.prepareMs;
      stages.decide += t.stages.decideMs;
      stages.wait += t.durationMs - t.stages.transactionMs;
      stages.tx += t.stages.transactionMs;
    },
  });
  const seen: number[] = [];
  const marks = new Map<string, { fetched: number; decided: number; committed: number }>();
  const hops = { fetched: [] as number[], decided: [] as number[], committed: [] as number[], read: [] as number[] };
  const sink = new ConsumeLoop({
    kafka: sinkKafka,
    groupId: `bench-tx-sink-${id}`,
    topics: [output],
    log,
    commit: 'kafka',
    consumer: { partitionsConcurrently: PARTITIONS, ...(process.env.BENCH_TX_SINK_WAIT ? { maxWaitTimeInMs: Number(process.env.BENCH_TX_SINK_WAIT) } : {}) },
    handleBatch: async (batch) => {
      const now = Date.now();
      for (const r of batch.records) {
        const sent = Number(r.headers.sent);
        seen.push(now - sent);
        const m = marks.get(r.key ?? '');
        if (!m || !m.committed) continue;
        hops.fetched.push(m.fetched - sent);
        hops.decided.push(m.decided - m.fetched);
        hops.committed.push(m.committed - m.decided);
        hops.read.push(now - m.committed);
      }
    },
  });
  await processor.start();
  await sink.start();
  await processor.ready;
  const producer = inKafka.producer({ maxInFlightRequests: 8 });
  await producer.connect();
  await sleep(2_000);
  const total = RATE * SECONDS;
  const began = Date.now();
  const sends: Array<Promise<unknown>> = [];
  for (let i = 0; i < total; i++) {
    const due = began + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    sends.push(producer.send({ topic: input, acks: -1, messages: [{ key: `k${i}`, value: `v${i}`, headers: { sent: String(Date.now()) } }] }));
  }
  await Promise.all(sends);
  const deadline = Date.now() + 60_000;
  while (seen.length < total && Date.now() < deadline) await sleep(100);
  const sorted = [...seen].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
  const q = (v: number[]) => {
    const x = [...v].sort((a, b) => a - b);
    return `p50 ${x[Math.floor(x.length / 2)]} / mean ${(x.reduce((a, b) => a + b, 0) / Math.max(1, x.length)).toFixed(1)}`;
  };
  console.log(
    `per record: written → fetched ${q(hops.fetched)} · fetched → decided ${q(hops.decided)} · decided → committed ${q(hops.committed)} · committed → read by the sink ${q(hops.read)} ms`,
  );
  const m = (v: number) => (v / Math.max(1, stages.n)).toFixed(1);
  console.log(
    `input written → output read: ${seen.length}/${total}, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms; ` +
      `processor per batch: turn wait ${m(stages.turn)} · prepare ${m(stages.prep)} · decide ${m(stages.decide)} · commit wait ${m(stages.wait)} · transaction ${m(stages.tx)} ms (${stages.n} batches); ` +
      `CONCURRENT_TRANSACTIONS retries in sendOffsets ${processor.concurrentTransactionRetries}`,
  );
  const n = (api: string) => requests.get(api)?.n ?? 0;
  const txApis = ['AddPartitionsToTxn', 'Produce', 'AddOffsetsToTxn', 'TxnOffsetCommit', 'EndTxn', 'GroupCoordinator'];
  console.log(
    `the processor's requests, count (mean ms): ${txApis.map((api) => `${api} ${n(api)} (${((requests.get(api)?.ms ?? 0) / Math.max(1, n(api))).toFixed(1)})`).join(' · ')}; ` +
      // One AddPartitionsToTxn per transaction (its outputs fit one produce call here): the others were answered
      // CONCURRENT_TRANSACTIONS (the id's previous commit still writing its markers) and tried again.
      `AddPartitionsToTxn tried again ${Math.max(0, n('AddPartitionsToTxn') - n('EndTxn'))}`,
  );
  await producer.disconnect();
  await sink.stop();
  await processor.stop();
  await stopBroker?.();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
