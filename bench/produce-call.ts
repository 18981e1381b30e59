/**
 * `npm run bench:produce-call`: what one produce call of the plain producer costs in CPU, and what each record in it
 * adds. `EventProducer` (ingest's producer: idempotent, acks=all, grouping the sends made in one turn) writes waves of
 * K one-record sends of the bench's Alertmanager event, each wave one produce call awaited before the next, for every
 * K in BENCH_PRODUCE_KS (default 1,8,25,64), BENCH_PRODUCE_ROUNDS times (default 3) in turn; the process's own CPU
 * (user + system) per call and per record, and the wall time per call. Starts its own broker unless KAFKA_BROKERS is
 * set. The figure to set beside ingest's CPU per alert: under `bench:intake` its calls carry 20–30 records.
 */
import { readFileSync } from 'node:fs';
import type { AnyEnvelope } from '@alertbus/schemas';
import { alertBody } from './alert-body';

const KS = (process.env.BENCH_PRODUCE_KS ?? '1,8,25,64').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_PRODUCE_ROUNDS ?? 3);
/** Records written at each K per round (after a warm-up of a tenth as many). */
const RECORDS = Number(process.env.BENCH_PRODUCE_RECORDS ?? 6000);
const EVENTS = 5000;

const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;

async function main(): Promise<void> {
  process.env.KAFKA_TOPIC_PREFIX = `call${Date.now().toString(36)}.`;
  // Imported after the prefix is set: topic names are fixed when the schemas module loads.
  const { createKafka, ensureTopics, EventProducer, installProduceEncoder, startLocalBroker } = await import('@alertbus/kafka');
  const { normaliseAlertmanager, toAlertEnvelopes } = await import('@alertbus/normalise');
  const { newId } = await import('@alertbus/schemas');
  let stopBroker: (() => Promise<void>) | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const broker = await startLocalBroker({});
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    stopBroker = () => broker.stop();
  }
  // As ingest runs it: the one-pass Produce encoder (createKafka puts in the request queues' quiet timer).
  installProduceEncoder();
  const kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench-produce-call' });
  await ensureTopics(kafka);
  const producer = new EventProducer(kafka, { validate: false, groupSameTurn: true });
  await producer.connect();

  // The event and its bytes as ingest makes them, made before anything is measured.
  const recordedAt = new Date().toISOString();
  const events: AnyEnvelope[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const result = normaliseAlertmanager(JSON.parse(alertBody(i)) as never);
    if (!result.ok) throw new Error(result.message);
    events.push(toAlertEnvelopes(result.alerts, { source: 'alertmanager', recordedAt, newId })[0]!);
  }
  const encoded = events.map((e) => Buffer.from(JSON.stringify(e)));
  let next = 0;
  const wave = async (k: number): Promise<void> => {
    const sends: Promise<void>[] = [];
    for (let j = 0; j < k; j++) {
      const i = next++ % EVENTS;
      sends.push(producer.send([events[i]!], { encoded: [encoded[i]!] }));
    }
    await Promise.all(sends);
  };

  try {
    console.log(`EventProducer, waves of K one-record sends (${encoded[0]!.length}-byte events), ${RECORDS} records per K, ${ROUNDS} rounds`);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const k of KS) {
        for (let done = 0; done < RECORDS / 10; done += k) await wave(k);
        const calls0 = producer.produceCalls;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (let done = 0; done < RECORDS; done += k) await wave(k);
        const cpu = process.cpuUsage(cpu0);
        const ms = performance.now() - t0;
        const calls = producer.produceCalls - calls0;
        const records = Math.ceil(RECORDS / k) * k;
        const us = cpu.user + cpu.system;
        console.log(
          `round ${round} K=${String(k).padStart(2)}: ${(records / calls).toFixed(1)} records per call; ${(us / calls).toFixed(0)} µs CPU per call, ` +
            `${(us / records).toFixed(1)} µs per record; ${(ms / calls).toFixed(2)} ms wall per call (load ${loadAverage()})`,
        );
      }
    }
  } finally {
    await producer.disconnect();
    await stopBroker?.();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
