/**
 * POST /notify on a real ingest and Kafka, without a router: the notification is on notifications.v1 under its
 * alias before the 202; a retried request (same Idempotency-Key) is the same fact; a sync request nobody posts
 * is answered 504 with the id; tags follow the rules file as it changes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@alertbus/common';
import { TOPICS } from '@alertbus/schemas';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { startIngest, type RunningIngest } from './index';
import { settled } from './test-support/retry';

let ingest: RunningIngest;
const rules = join(mkdtempSync(join(tmpdir(), 'alertbus-ingest-notify-')), 'rules.yaml');

beforeAll(async () => {
  writeFileSync(rules, 'tags:\n  deploys: { channel: "#deploys" }\n');
  ingest = await startIngest(
    {
      port: 0,
      host: '127.0.0.1',
      bodyLimit: 1024 * 1024,
      kafkaBrokers: testBrokers(),
      kafkaTimeoutMs: 10_000,
      rulesPath: rules,
      notifySyncTimeoutMs: 1_500,
    },
    { log: createLogger('ingest-notify-test', 'silent') },
  );
});

afterAll(async () => {
  await ingest?.close();
});

const notify = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${ingest.url}/notify`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

test('a notification is on notifications.v1 under its alias once answered 202; a retried request is the same fact', async () => {
  const first = await notify({ tag: 'deploys', text: 'v2 is out' }, { 'idempotency-key': 'deploy-42' });
  expect(first.status).toBe(202);
  const a = (await first.json()) as { id: string; alias: string };
  expect(a.alias).toBe(`notify:${a.id}`);
  const again = (await (await notify({ tag: 'deploys', text: 'v2 is out' }, { 'idempotency-key': 'deploy-42' })).json()) as { id: string };
  expect(again.id).toBe(a.id);
  const other = (await (await notify({ tag: 'deploys', text: 'v2 is out' })).json()) as { id: string };
  expect(other.id).not.toBe(a.id);

  const kafka = await settled(() => testKafka('ingest-notify-test'));
  const records = await settled(() => readTopic(kafka, TOPICS.notifications));
  const mine = records.filter((r) => r.event?.id === a.id);
  expect(mine.length).toBeGreaterThanOrEqual(1);
  expect(mine[0]!.key).toBe(a.alias);
  expect(mine[0]!.event).toMatchObject({ type: 'NotificationRequested', data: { kind: 'tag', tag: 'deploys', level: 'info', text: 'v2 is out' } });
});

test('sync: nobody posts it (no router here) → 504 with the id, after NOTIFY_SYNC_TIMEOUT', async () => {
  const started = Date.now();
  const res = await notify({ tag: 'deploys', text: 'waiting', sync: true });
  expect(res.status).toBe(504);
  const body = (await res.json()) as { id: string; message: string };
  expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(body.message).toContain('NOTIFY_SYNC_TIMEOUT');
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
});

test('the tags follow the rules file: a tag added is accepted, an invalid file keeps the tags known', async () => {
  expect((await notify({ tag: 'batch', text: 'x' })).status).toBe(400);
  writeFileSync(rules, 'tags:\n  deploys: { channel: "#deploys" }\n  batch: { channel: "#batch" }\n');
  expect((await notify({ tag: 'batch', text: 'x' })).status).toBe(202);
  writeFileSync(rules, 'tags:\n  batch: { chanel: "#batch" }\n');
  const kept = await notify({ tag: 'deploys', text: 'x' });
  expect(kept.status).toBe(202);
});
