/**
 * `npm run bench:producer`: EventProducer's cost with each Kafka client library (KAFKA_CLIENT), side by side in one
 * process, in alternating rounds (kafkajs, platformatic, kafkajs, platformatic, …): the same pre-built alerts, sent one
 * per send by 64 concurrent senders as ingest's requests do (validated and encoded beforehand, as ingest does), acks=all.
 * Prints records/s and this process's CPU per 1,000 records (user + system, which a busy machine distorts less than
 * wall-clock time). Uses KAFKA_BROKERS when set, else starts a local broker.
 *
 * BENCH_PRODUCER_RECORDS (default 20000) records a round, BENCH_PRODUCER_ROUNDS (default 4) rounds.
 */
import { randomUUID } from 'node:crypto';

const RECORDS = Number(process.env.BENCH_PRODUCER_RECORDS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_PRODUCER_ROUNDS ?? 4);
const CONCURRENCY = 64;

async function main(): Promise<void> {
  const tag = `benchproducer${Date.now().toString(36)}.`;
  process.env.KAFKA_TOPIC_PREFIX = tag;
  // Imported after the prefix is set: topic names are fixed when the schemas module loads.
  const { createKafka, ensureTopics, startLocalBroker, EventProducer, KAFKA_CLIENTS } = await import('@alertbus/kafka');
  const { makeEnvelope } = await import('@alertbus/schemas');

  let stopBroker: (() => Promise<void>) | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const broker = await startLocalBroker({});
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    stopBroker = () => broker.stop();
  }
  const kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench-producer' });
  await ensureTopics(kafka);

  const at = new Date().toISOString();
  const events = Array.from({ length: RECORDS }, (_, i) =>
    makeEnvelope({
      id: randomUUID(),
      type: 'AlertReceived',
      alias: `alertmanager:bench-${i % 5000}`,
      occurredAt: at,
      recordedAt: at,
      source: 'alertmanager',
      causationId: null,
      correlationId: randomUUID(),
      data: {
        source: 'alertmanager',
        status: 'firing',
        title: `bench alert ${i}`,
        severity: 'warning',
        description: '',
        labels: { alertname: 'Bench', instance: `host-${i % 5000}` },
        annotations: {},
        links: [],
        raw: {},
      },
    } as never),
  );
  const encoded = events.map((e) => JSON.stringify(e));

  console.log(`\n## EventProducer by client library (${RECORDS} records a round, ${CONCURRENCY} concurrent one-record sends, topics ${tag}*)`);
  for (let round = 0; round < ROUNDS; round++) {
    const client = KAFKA_CLIENTS[round % KAFKA_CLIENTS.length]!;
    const producer = new EventProducer(kafka, { client, validate: false });
    await producer.connect();
    // A short warm-up: connections, metadata and the producer id are not what is measured.
    await Promise.all(events.slice(0, CONCURRENCY).map((e, i) => producer.send([e], { encoded: [encoded[i]!] })));
    const calls0 = producer.produceCalls;
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < RECORDS; i = next++) await producer.send([events[i]!], { encoded: [encoded[i]!] });
      }),
    );
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    await producer.disconnect();
    console.log(
      `round ${round + 1} ${client.padEnd(12)}: ${((RECORDS / ms) * 1000).toFixed(0).padStart(6)} records/s  ` +
        `${((cpuMs / RECORDS) * 1000).toFixed(0).padStart(4)} ms CPU per 1000 records  (${producer.produceCalls - calls0} produce calls)`,
    );
  }
  await stopBroker?.();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
