/**
 * POST /notify {sync: true} when ingest cannot read the end of deliveries.v1 (the topic is gone; this file's topics
 * are its own): the request is answered 503 naming the topic and the problem, and its notification is not written —
 * written, it would be posted while the sender, told 503, sends it again. A request without sync is still written.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@alertbus/common';
import { TOPICS } from '@alertbus/schemas';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { startIngest, type RunningIngest } from './index';

let ingest: RunningIngest | undefined;
const dir = mkdtempSync(join(tmpdir(), 'alertbus-ingest-unfollowable-'));

afterAll(async () => {
  await ingest?.close();
  rmSync(dir, { recursive: true, force: true });
});

const notify = (body: unknown) =>
  fetch(`${ingest!.url}/notify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('sync, deliveries.v1 unreadable: 503 kafka_unavailable naming it, and nothing written', async () => {
  const kafka = await testKafka('ingest-notify-unfollowable-test');
  const rulesPath = join(dir, 'rules.yaml');
  writeFileSync(rulesPath, 'tags:\n  ops: { channel: "#ops" }\n');
  ingest = await startIngest(
    { port: 0, host: '127.0.0.1', bodyLimit: 1024 * 1024, kafkaBrokers: testBrokers(), kafkaTimeoutMs: 10_000, rulesPath, notifySyncTimeoutMs: 2_000 },
    { log: createLogger('ingest-notify-unfollowable-test', 'silent') },
  );
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [TOPICS.deliveries] });
    await waitFor(async () => (!(await admin.listTopics()).includes(TOPICS.deliveries) ? true : undefined), { what: 'deliveries.v1 deleted' });
  } finally {
    await admin.disconnect();
  }

  const res = await notify({ tag: 'ops', text: 'deployed v3', sync: true });
  expect(res.status).toBe(503);
  const body = (await res.json()) as { error: string; message: string };
  expect(body.error).toBe('kafka_unavailable');
  expect(body.message).toContain(`the end of ${TOPICS.deliveries} cannot be read`);
  expect(body.message).toMatch(/does not host this topic-partition/);

  // The same notification without sync is written: the reading below would have seen the sync one.
  expect((await notify({ tag: 'ops', text: 'deployed v3, async' })).status).toBe(202);
  const written = (await readTopic(kafka, TOPICS.notifications)).map((r) => r.event?.data);
  expect(written).toEqual([expect.objectContaining({ text: 'deployed v3, async' })]);
});
