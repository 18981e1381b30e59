/**
 * Ingest with a broker of its own that stops answering (SIGSTOP: the process is there, its sockets accept,
 * nothing answers): /readyz turns 503 from a metadata round trip, not from the producer's `connected`; a
 * request whose records were already handed to Kafka waits for the acknowledgement and gets its 202 once
 * Kafka answers; every request answered 503 carries Retry-After and is never written, not even later.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@alertbus/common';
import { createKafka, ensureTopics, startLocalBroker, type LocalBroker } from '@alertbus/kafka';
import { TOPICS } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { threadStats } from '../../../test/support/proc';
import { waitFor } from '../../../test/support/wait';
import { startIngest, type RunningIngest } from './index';

const log = createLogger('ingest-backpressure-test', 'silent');

let broker: LocalBroker | undefined;
let dir: string;
let ingest: RunningIngest | undefined;
let frozen = false;

/**
 * Stops the broker and returns once every one of its threads is stopped. SIGSTOP is not instant for a thread in
 * uninterruptible sleep (a write held by the kernel's dirty-page throttling on a busy machine): such a thread stops
 * only when the call returns, and a broker thread still running could answer a request the test means to be left
 * unanswered.
 */
async function freeze(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  frozen = true;
  const stopped = () => {
    const threads = threadStats(pid);
    return threads.length > 0 && threads.every((fields) => fields[0] === 'T') ? true : undefined;
  };
  await waitFor(stopped, { what: `every thread of the broker (pid ${pid}) stopped`, intervalMs: 5 });
}

function thaw(pid: number): void {
  process.kill(pid, 'SIGCONT');
  frozen = false;
}

// A test that fails while the broker is stopped must not leave it stopped for the next one.
afterEach(() => {
  if (broker && frozen) thaw(broker.pid);
});

afterAll(async () => {
  await ingest?.close();
  await broker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const alert = (alias: string) => JSON.stringify({ alias, title: `backpressure ${alias}`, severity: 'warning' });
const alerts = (aliases: string[]) => JSON.stringify({ alerts: aliases.map((alias) => ({ alias, title: `backpressure ${alias}` })) });

async function post(body: string): Promise<{ status: number; retryAfter: string | null; body: string }> {
  const res = await fetch(`${ingest!.url}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
}

/**
 * Waits until the request's records are handed to Kafka and waiting for its answer: 'in flight'. A request answered
 * before it was seen waiting (the broker was not stopped after all, or the request never reached it) says so instead.
 */
async function handedOver(request: Promise<{ status: number }>, what: string): Promise<string> {
  let answered: string | undefined;
  void request.then(
    (r) => (answered = `answered ${r.status} without waiting`),
    (err: Error) => (answered = `failed without waiting: ${err.message}`),
  );
  return waitFor(() => (ingest!.producer.backlog.inFlight > 0 ? 'in flight' : answered), { what, intervalMs: 10 });
}

const readyz = async () => (await fetch(`${ingest!.url}/readyz`)).status;

test('broker silent: not ready, 503 with Retry-After for what was not handed over (never written), 202 late for what was', async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertbus-ingest-broker-'));
  broker = await startLocalBroker({ dataDir: dir });
  const kafka = createKafka({ brokers: broker.brokers, clientId: 'ingest-backpressure', log });
  await ensureTopics(kafka);
  ingest = await startIngest(
    { port: 0, host: '127.0.0.1', bodyLimit: 1024 * 1024, kafkaBrokers: broker.brokers, kafkaTimeoutMs: 1_500, produceQueueMax: 3 },
    { log },
  );
  expect(await readyz()).toBe(200);
  expect((await post(alert('before'))).status).toBe(202);

  await freeze(broker.pid);
  // Handed to Kafka before anyone noticed: it waits for the acknowledgement, however long.
  const inFlight = post(alert('in-flight'));
  expect(await handedOver(inFlight, 'the write in flight')).toBe('in flight');

  // Behind it: refused after INGEST_KAFKA_TIMEOUT_MS, or at once once the probe says Kafka is away.
  const queued = await post(alerts(['queued-1', 'queued-2']));
  expect(queued.status).toBe(503);
  expect(queued.retryAfter).toMatch(/^[1-9]\d*$/);
  expect(JSON.parse(queued.body)).toEqual({ error: 'kafka_unavailable', message: expect.stringMatching(/nothing was written$/) });

  await waitFor(async () => (await readyz()) === 503, { what: '/readyz 503 while the broker does not answer', timeoutMs: 20_000 });
  const ready = (await (await fetch(`${ingest.url}/readyz`)).json()) as { reason: string };
  expect(ready.reason).toMatch(/did not answer a metadata request within 3000 ms/);
  const whileDown = await post(alerts(['down-1', 'down-2', 'down-3', 'down-4']));
  expect(whileDown).toMatchObject({ status: 503, retryAfter: '5' });
  expect(JSON.parse(whileDown.body).message).toMatch(/^kafka unavailable: Kafka \(127\.0\.0\.1:\d+\) did not answer/);
  const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
  expect(metrics).toMatch(/alertbus_ingest_produce_refused_total\{reason="kafka-unreachable",service="ingest"\} [1-9]/);
  expect(metrics).toMatch(/alertbus_ingest_produce_queue_events\{state="in_flight",service="ingest"\} 1/);

  thaw(broker.pid);
  expect((await inFlight).status).toBe(202);
  await waitFor(async () => (await readyz()) === 200, { what: 'ready again', timeoutMs: 30_000 });
  expect((await post(alert('after'))).status).toBe(202);

  const written = (await readTopic(kafka, TOPICS.alertsReceived)).map((r) => r.key);
  expect(written.sort()).toEqual(['generic:after', 'generic:before', 'generic:in-flight']);
});

test('a full produce queue answers 503 with Retry-After at once, and writes nothing of it', async () => {
  const kafka = createKafka({ brokers: broker!.brokers, clientId: 'ingest-backpressure-2', log });
  await ingest!.close();
  // A queue timeout far longer than the test: what answers the second request is the full queue.
  ingest = await startIngest(
    { port: 0, host: '127.0.0.1', bodyLimit: 1024 * 1024, kafkaBrokers: broker!.brokers, kafkaTimeoutMs: 60_000, produceQueueMax: 3 },
    { log },
  );
  await freeze(broker!.pid);
  const first = post(alerts(['full-1', 'full-2'])); // handed over, hangs
  expect(await handedOver(first, 'the first write in flight')).toBe('in flight');
  const started = Date.now();
  const full = await post(alerts(['full-3', 'full-4']));
  expect(full.status).toBe(503);
  expect(Date.now() - started).toBeLessThan(30_000); // refused, not timed out
  expect(JSON.parse(full.body).message).toMatch(/queue is full|did not answer/);
  expect(full.retryAfter).toMatch(/^[1-9]\d*$/);

  thaw(broker!.pid);
  expect((await first).status).toBe(202);
  const written = (await readTopic(kafka, TOPICS.alertsReceived)).map((r) => r.key).filter((k) => k?.startsWith('generic:full-'));
  expect(written.sort()).toEqual(['generic:full-1', 'generic:full-2']);
});
