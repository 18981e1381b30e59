/**
 * An instance holding a partition does not keep the facts it wrote to router.shared.v1 for it (its committed states are
 * the same or newer): when the partition moves to another instance, the incidents it decided there must still be seen
 * by its own decisions, through the states it had committed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { KEYED_PARTITIONS, TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { firing, MINUTE } from '@alertbus/routing/src/test-support/alerts';
import type { Router } from './index';
import { aliasOn, bothHolding, startInstance } from './test-support/instances';

const RULES = `
defaults:
  slack: { channel: "#alerts" }
  pager: { priority: P3 }
inhibit:
  - name: critical-mutes-warnings
    source_match: ['severity="critical"']
    target_match: ['severity="warning"']
    equal: [alertname, cluster]
`;

let kafka: Kafka;
let producer: EventProducer;
const routers: Router[] = [];
let rulesPath: string;

async function decided(input: Envelope<'AlertReceived'>): Promise<AnyEnvelope[]> {
  await producer.send([input]);
  return waitFor(
    async () => {
      const incidents = await readTopic(kafka, TOPICS.incidents);
      const d = incidents.map((r) => r.event!).filter((e) => e && e.alias === input.alias && (e.data as { inputId?: string }).inputId === input.id);
      return d.length > 0 ? d : null;
    },
    { timeoutMs: 60_000, what: `the decision for ${input.alias}` },
  );
}

const latency = (cluster: string) => ({ alertname: 'HandoverLatency', cluster });

beforeAll(async () => {
  kafka = await testKafka('router-shared-handover-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-shared-handover-int-producer' }));
  await producer.connect();
  rulesPath = join(mkdtempSync(join(tmpdir(), 'router-handover-')), 'rules.yaml');
  writeFileSync(rulesPath, RULES);
}, 60_000);

afterAll(async () => {
  for (const r of routers) await r.close();
  await producer.disconnect();
});

test('incidents an instance decided on a partition it gave away still inhibit its own decisions', async () => {
  routers.push(await startInstance(rulesPath, '0'));
  await routers[0]!.ready;
  await waitFor(() => (routers[0]!.partitions.length === KEYED_PARTITIONS ? true : null), { timeoutMs: 60_000, what: 'instance 0 holding every partition' });
  // One critical incident on every partition, decided by instance 0 alone, each muting warnings of its own cluster.
  const sources = new Map<number, { alias: string; cluster: string; incidentId: string }>();
  for (let p = 0; p < KEYED_PARTITIONS; p++) {
    const cluster = `handover-c${p}`;
    const source = firing(await aliasOn(kafka, [p], `hsrc${p}`), { severity: 'critical', labels: latency(cluster) });
    const [opened] = await decided(source);
    expect(opened).toMatchObject({ type: 'IncidentOpened' });
    sources.set(p, { alias: source.alias, cluster, incidentId: (opened!.data as { incidentId: string }).incidentId });
  }

  // A second instance joins and takes some of the partitions.
  routers.push(await startInstance(rulesPath, '1'));
  await routers[1]!.ready;
  await bothHolding(routers[0]!, routers[1]!);
  const kept = routers[0]!.partitions;
  const given = routers[1]!.partitions;

  // Instance 0 decides a warning of each given-away partition's cluster: the critical it decided there mutes it.
  for (const p of given) {
    const source = sources.get(p)!;
    const target = firing(await aliasOn(kafka, kept, `hdst${p}`), { at: MINUTE, severity: 'warning', labels: latency(source.cluster) });
    const [muted, ...more] = await decided(target);
    expect(more).toEqual([]);
    expect(muted).toMatchObject({
      type: 'EventSuppressed',
      data: { reason: 'inhibited', suppressedBy: { kind: 'inhibition', alias: source.alias, incidentId: source.incidentId, inhibitRule: 'critical-mutes-warnings' } },
    });
  }
}, 240_000);
