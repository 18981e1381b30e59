/**
 * A large Alertmanager group (the outage that made it large) is accepted whole with the default limits, and written
 * in produce calls each within one Kafka batch: Alertmanager never sends a group again after a 4xx, so a group
 * refused for its size loses every alert in it. Beyond the limits, the 413 says how to bound the group instead.
 * Against the real broker of the test run.
 */
import { TOPICS } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { fixtureText } from '../../../test/support/fixtures';
import { loadConfig } from './config';
import { request, type Target } from './test-support/http';
import { endOffsets, recordsBetween } from './test-support/offsets';
import { settled } from './test-support/retry';
import { ingestRig } from './test-support/rig';

const rig = ingestRig('ingest-big-groups-test');
const post = (target: Target, path: string, body: string) => request(target, 'POST', path, body, { 'content-type': 'application/json' });

/** The limits a deployment gets when it sets none. */
function defaultLimits() {
  const { bodyLimit, maxAlerts, maxNormalisedBytes } = loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092' });
  return { bodyLimit, maxAlerts, maxNormalisedBytes };
}

/** A real kube-state-metrics group from Alertmanager, grown to `n` alerts (one per pod, each its own fingerprint). */
function bigGroup(n: number, run: string): { body: string; pods: string[] } {
  const group = JSON.parse(fixtureText('alertmanager/k8s_resolved_truncatedAlerts.json')) as {
    alerts: Array<{ labels: Record<string, string>; fingerprint: string }>;
  };
  const one = group.alerts[0]!;
  const pods = Array.from({ length: n }, (_, i) => `${run}-pod-${i}`);
  group.alerts = pods.map((pod, i) => ({ ...one, labels: { ...one.labels, pod }, fingerprint: `${run}${String(i).padStart(8, '0')}` }));
  return { body: JSON.stringify(group), pods };
}

test('a 3,000-alert Alertmanager group is accepted (202) with the default limits, every alert on alerts.received.v1 exactly once', async () => {
  const target = await rig.app({ config: defaultLimits() });
  const run = `bg${Date.now().toString(36)}`;
  const { body, pods } = bigGroup(3_000, run);
  expect(body.length).toBeGreaterThan(2 * 1024 * 1024); // over the former 1 MiB body limit and 1,000 alerts
  const calls = rig.producer.produceCalls;
  const before = await endOffsets(rig.kafka);

  const res = await post(target, '/webhooks/alertmanager', body);
  expect(res.statusCode).toBe(202);
  const { accepted, ids, aliases } = res.json() as { accepted: number; ids: string[]; aliases: string[] };
  expect(accepted).toBe(3_000);
  expect(new Set(aliases).size).toBe(3_000);
  expect(recordsBetween(before, await endOffsets(rig.kafka), TOPICS.alertsReceived)).toBe(3_000);

  const wanted = new Set(ids);
  const records = (await settled(() => readTopic(rig.kafka, TOPICS.alertsReceived))).filter((r) => r.event && wanted.has(r.event.id));
  expect(records).toHaveLength(3_000);
  expect(new Set(records.map((r) => r.event!.id)).size).toBe(3_000);
  const podsWritten = records.map((r) => (r.event!.data as { labels: Record<string, string> }).labels.pod!);
  expect(podsWritten.sort()).toEqual([...pods].sort());

  // Written in produce calls of at most 900 KiB each (under the broker's 1 MiB batch), never as one oversized request.
  const written = records.reduce((n, r) => n + Buffer.byteLength(r.value ?? ''), 0);
  expect(written).toBeGreaterThan(900 * 1024);
  expect(rig.producer.produceCalls - calls).toBeGreaterThanOrEqual(Math.ceil(written / (900 * 1024)));
});

test('the default limits take a group of 10,000 alerts', () => {
  expect(defaultLimits().maxAlerts).toBeGreaterThanOrEqual(10_000);
  // 10,000 real alerts of about 1 KB each as sent, about 3 KB each once normalised.
  const { body } = bigGroup(10_000, 'size');
  expect(defaultLimits().bodyLimit).toBeGreaterThan(Buffer.byteLength(body));
  expect(defaultLimits().maxNormalisedBytes).toBeGreaterThan(3 * Buffer.byteLength(body));
});

test('a group over INGEST_MAX_ALERTS → 413 saying to set the receiver\'s max_alerts below the limit, nothing written', async () => {
  const target = await rig.app({ config: { ...defaultLimits(), maxAlerts: 50 } });
  const before = await endOffsets(rig.kafka);
  const res = await post(target, '/webhooks/alertmanager', bigGroup(51, 'over').body);
  expect(res.statusCode).toBe(413);
  const { error, message } = res.json() as { error: string; message: string };
  expect(error).toBe('payload_too_large');
  expect(message).toMatch(/^the request carries 51 alerts, more than the 50 accepted in one request \(INGEST_MAX_ALERTS\): /);
  expect(message).toContain("set the Alertmanager receiver's max_alerts");
  expect(message).toContain('max_alerts: 50 at most');
  expect(recordsBetween(before, await endOffsets(rig.kafka), TOPICS.alertsReceived)).toBe(0);
});

test('a webhook body over INGEST_BODY_LIMIT → 413 saying to set the receiver\'s max_alerts', async () => {
  const target = await rig.app({ config: { ...defaultLimits(), bodyLimit: 64 * 1024 } });
  const res = await post(target, '/webhooks/alertmanager', bigGroup(200, 'body').body);
  expect(res.statusCode).toBe(413);
  const { message } = res.json() as { message: string };
  expect(message).toMatch(/^request body is larger than the limit of 65536 bytes \(INGEST_BODY_LIMIT\): /);
  expect(message).toContain("set the Alertmanager receiver's max_alerts");
});
