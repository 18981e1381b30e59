/**
 * Two router instances in one group (ROUTER_INSTANCE_ID 0 and 1, so two transactional ids) hold different
 * partitions. An inhibiting critical decided by one instance mutes a warning that the other decides, and a
 * channel's storm is counted over both instances' incidents: through router.shared.v1, which each writes in its
 * transactions and reads entirely.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
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
rules:
  - match: ['team="storm"']
    slack: { channel: "#storm" }
inhibit:
  - name: critical-mutes-warnings
    source_match: ['severity="critical"']
    target_match: ['severity="warning"']
    equal: [alertname, cluster]
storm_control:
  threshold: 3
  window: 10m
  channels:
    "#alerts": { enabled: false }
`;

let kafka: Kafka;
let producer: EventProducer;
const routers: Router[] = [];
let rulesPath: string;

async function decisionsOf(alias: string, inputId: string): Promise<AnyEnvelope[]> {
  const incidents = await readTopic(kafka, TOPICS.incidents);
  return incidents.map((r) => r.event!).filter((e) => e && e.alias === alias && (e.data as { inputId?: string }).inputId === inputId);
}

async function commandsOf(alias: string): Promise<AnyEnvelope[]> {
  const [slack, pager] = await Promise.all([readTopic(kafka, TOPICS.slackCommands), readTopic(kafka, TOPICS.pagerCommands)]);
  return [...slack, ...pager].map((r) => r.event!).filter((e) => e && e.alias === alias);
}

async function decided(input: Envelope<'AlertReceived'>): Promise<AnyEnvelope[]> {
  await producer.send([input]);
  return waitFor(async () => {
    const d = await decisionsOf(input.alias, input.id);
    return d.length > 0 ? d : null;
  }, { timeoutMs: 60_000, what: `the decision for ${input.alias}` });
}

beforeAll(async () => {
  kafka = await testKafka('router-shared-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-shared-int-producer' }));
  await producer.connect();
  rulesPath = join(mkdtempSync(join(tmpdir(), 'router-shared-')), 'rules.yaml');
  writeFileSync(rulesPath, RULES);
  routers.push(await startInstance(rulesPath, '0'));
  await routers[0]!.ready;
  routers.push(await startInstance(rulesPath, '1'));
  await routers[1]!.ready;
  await bothHolding(routers[0]!, routers[1]!);
}, 180_000);

afterAll(async () => {
  for (const r of routers) await r.close();
  await producer.disconnect();
});

const latency = (cluster: string) => ({ alertname: 'HighLatency', cluster });

test.each([
  ['instance 0', 'instance 1', 0, 1],
  ['instance 1', 'instance 0', 1, 0],
])('a critical decided by %s mutes a warning decided by %s', async (_s, _t, from, to) => {
  const cluster = `c${from}`;
  const source = firing(await aliasOn(kafka, routers[from]!.partitions, `xsrc${from}`), { severity: 'critical', labels: latency(cluster) });
  const target = firing(await aliasOn(kafka, routers[to]!.partitions, `xdst${to}`), { at: MINUTE, severity: 'warning', labels: latency(cluster) });

  const [opened] = await decided(source);
  expect(opened).toMatchObject({ type: 'IncidentOpened' });
  const [muted, ...more] = await decided(target);
  expect(more).toEqual([]);
  expect(muted).toMatchObject({
    type: 'EventSuppressed',
    data: {
      reason: 'inhibited',
      suppressedBy: { kind: 'inhibition', alias: source.alias, incidentId: (opened!.data as { incidentId: string }).incidentId, inhibitRule: 'critical-mutes-warnings' },
      shared: { offset: expect.stringMatching(/^[0-9]+$/) },
    },
  });
  // Nothing posted or paged for the muted warning.
  expect(await commandsOf(target.alias)).toEqual([]);
}, 120_000);

test("a channel's storm is counted over both instances' incidents", async () => {
  const storm = (alias: string, at: number) => firing(alias, { at, severity: 'warning', labels: { alertname: 'Down', team: 'storm' } });
  const [p0, p1] = routers.map((r) => r.partitions);
  // Three incidents for #storm decided by instance 0, then one by instance 1: the fourth is gathered.
  for (let i = 0; i < 3; i++) await decided(storm(await aliasOn(kafka, p0!, 'storm0', i), i * 1000));
  const fourth = await decided(storm(await aliasOn(kafka, p1!, 'storm1'), 3000));
  expect(fourth.map((e) => `${e.type}:${(e.data as { reason: string }).reason}`)).toEqual(['IncidentOpened:first-notification', 'EventSuppressed:storm-control']);
  expect(fourth[1]!.data).toMatchObject({ suppressedBy: { kind: 'storm', channel: '#storm', threshold: 3, recent: 3 } });
}, 120_000);
