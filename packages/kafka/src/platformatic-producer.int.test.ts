/**
 * The @platformatic/kafka driver through a broker of its own that stops answering (SIGSTOP: its sockets accept,
 * nothing answers) for longer than a request may wait: the client gives up on the request, the driver sends the same
 * records again with the same sequence numbers, and once the broker answers the send resolves with each record
 * written once.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@alertbus/common';
import { TOPICS } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { createKafka } from './client';
import { ensureTopics } from './admin';
import { startLocalBroker, type LocalBroker } from './local/broker';
import { PlatformaticDriver } from './platformatic-producer';

let broker: LocalBroker | undefined;
let dir: string | undefined;
let frozen = false;

afterAll(async () => {
  if (broker && frozen) process.kill(broker.pid, 'SIGCONT');
  await broker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const record = (key: string) => ({ topic: TOPICS.alertsReceived, message: { key, value: JSON.stringify({ key }), headers: { 'alertbus-event-id': key } } });

test('a request the broker does not answer in time is sent again, and each record is written once', async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertbus-platformatic-broker-'));
  broker = await startLocalBroker({ dataDir: dir });
  const kafka = createKafka({ brokers: broker.brokers, clientId: 'platformatic-timeout', log: createLogger('platformatic-timeout', 'silent') });
  await ensureTopics(kafka);
  const driver = new PlatformaticDriver({ brokers: broker.brokers, clientId: 'platformatic-timeout', requestTimeoutMs: 1_000 });
  await driver.connect();
  try {
    const keys = Array.from({ length: 20 }, (_, i) => `frozen-${i}-${randomUUID()}`);
    await driver.send([record('before')]);

    process.kill(broker.pid, 'SIGSTOP');
    frozen = true;
    let settled: 'resolved' | Error | undefined;
    const sending = driver.send(keys.map(record)).then(
      () => (settled = 'resolved'),
      (err: Error) => (settled = err),
    );
    // Several request timeouts go by while the broker is away: the send is still waiting, neither refused nor done.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(settled).toBeUndefined();

    process.kill(broker.pid, 'SIGCONT');
    frozen = false;
    await sending;
    expect(settled).toBe('resolved');

    const written = (await readTopic(kafka, TOPICS.alertsReceived)).map((r) => r.key);
    expect(written.filter((k) => k !== 'before').sort()).toEqual([...keys].sort());
  } finally {
    await driver.disconnect();
  }
});
