/**
 * A silenced firing still inhibits, against a real broker: a ClusterDown silenced for maintenance mutes the
 * ServiceDown alerts of its cluster, also after a restart restored the kept firing from router.state.v1, and on
 * another router instance through router.shared.v1; its resolve lets the next ServiceDown open. Every decision is
 * the one the pure decider takes over the same stream.
 */
import { createKafka, EventProducer } from '@alertbus/kafka';
import { compileRules, isIncidentEvent, Replayer, SilenceBook } from '@alertbus/routing';
import { deriveId, makeEnvelope, TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { withoutSharedSeen } from '../../../test/support/shared-seen';
import { firing, HOUR, MINUTE, resolved, T0 } from '@alertbus/routing/src/test-support/alerts';
import type { Router } from './index';
import { aliasOn, bothHolding, startInstance } from './test-support/instances';
import { CLUSTER_MUTES_SERVICES, rulesFile } from './test-support/rules';

const RULES = CLUSTER_MUTES_SERVICES;

const iso = (ms: number) => new Date(T0 + ms).toISOString();
const silence = (cluster: string) =>
  makeEnvelope({
    id: deriveId('silence', `upgrade-${cluster}`, 'created'),
    type: 'SilenceCreated',
    alias: `silence:upgrade-${cluster}`,
    occurredAt: iso(-HOUR),
    recordedAt: iso(-HOUR),
    source: 'history-api',
    data: { silenceId: `upgrade-${cluster}`, matchers: ['alertname="ClusterDown"', `cluster="${cluster}"`], startsAt: iso(-HOUR), endsAt: iso(4 * HOUR), createdBy: 'ana', comment: 'cluster upgrade', kind: 'maintenance' },
  });
const clusterDown = (alias: string, cluster: string, at: number) => firing(alias, { at, severity: 'critical', title: `ClusterDown ${cluster}`, labels: { alertname: 'ClusterDown', cluster } });
const clusterUp = (alias: string, cluster: string, at: number) => resolved(alias, { at, severity: 'critical', title: `ClusterDown ${cluster}`, labels: { alertname: 'ClusterDown', cluster } });
const serviceDown = (alias: string, cluster: string, at: number) => firing(alias, { at, severity: 'warning', title: `ServiceDown ${alias}`, labels: { alertname: 'ServiceDown', cluster } });

let kafka: Kafka;
let producer: EventProducer;
let rulesPath: string;
const routers: Router[] = [];

const incidentEvents = async () => (await readTopic(kafka, TOPICS.incidents)).map((r) => r.event!).filter(Boolean);
async function commandsOf(alias: string): Promise<AnyEnvelope[]> {
  const [slack, pager] = await Promise.all([readTopic(kafka, TOPICS.slackCommands), readTopic(kafka, TOPICS.pagerCommands)]);
  return [...slack, ...pager].map((r) => r.event!).filter((e) => e && e.alias === alias);
}

async function decided(input: Envelope<'AlertReceived'>): Promise<AnyEnvelope[]> {
  await producer.send([input]);
  return waitFor(async () => {
    const d = (await incidentEvents()).filter((e) => e.alias === input.alias && (e.data as { inputId?: string }).inputId === input.id);
    return d.length > 0 ? d : null;
  }, { timeoutMs: 60_000, what: `the decision for ${input.alias}` });
}

const brief = (events: AnyEnvelope[]) => events.map((e) => `${e.type}:${(e.data as { reason?: string }).reason ?? ''}`);

/** What the pure decider says of the stream, one router holding every alias, with the silences written. */
function expected(inputs: Envelope<'AlertReceived'>[], clusters: string[]): AnyEnvelope[] {
  const compiled = compileRules(RULES, 'rules.yaml', { defaultChannel: '#alerts' });
  if (!compiled.ok) throw new Error(compiled.message);
  const book = new SilenceBook();
  for (const c of clusters) book.apply(silence(c));
  const replayer = new Replayer(compiled.rules, { silences: book });
  return inputs.flatMap((i) => replayer.decide(i).events);
}

beforeAll(async () => {
  kafka = await testKafka('router-inhibit-suppressed-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-inhibit-suppressed-int-producer' }));
  await producer.connect();
  rulesPath = rulesFile(RULES, 'router-inhibit-suppressed');
});

afterAll(async () => {
  for (const r of routers) await r.close();
  await producer.disconnect();
});

test('a silenced ClusterDown mutes its ServiceDowns, before and after a restart; its resolve lets the next one open', async () => {
  const source = 'alertmanager:cluster-eu';
  await producer.send([silence('eu')]);
  routers.push(await startInstance(rulesPath, '0'));
  await routers[0]!.ready;

  const inputs = [clusterDown(source, 'eu', 0), serviceDown('alertmanager:svc-eu-1', 'eu', MINUTE)];
  expect(brief(await decided(inputs[0]!))).toEqual(['EventSuppressed:silenced']);
  const [muted] = await decided(inputs[1]!);
  expect(muted!.data).toMatchObject({ reason: 'inhibited', suppressedBy: { kind: 'inhibition', alias: source, source: { reason: 'silenced', silenceId: 'upgrade-eu' } } });
  // What a restore reads: the kept firing.
  const states = await readTopic(kafka, TOPICS.routerState);
  expect(JSON.parse(states.filter((r) => r.key === source).at(-1)!.value!)).toMatchObject({ kind: 'alert-suppressed', key: source, reason: 'silenced' });

  // Restart: the kept firing comes back from router.state.v1, and mutes as before.
  await routers.pop()!.close();
  routers.push(await startInstance(rulesPath, '0'));
  await routers[0]!.ready;
  inputs.push(serviceDown('alertmanager:svc-eu-2', 'eu', 2 * MINUTE));
  expect(brief(await decided(inputs[2]!))).toEqual(['EventSuppressed:inhibited']);
  // The source resolves: the next ServiceDown opens its thread.
  inputs.push(clusterUp(source, 'eu', 3 * MINUTE), serviceDown('alertmanager:svc-eu-2', 'eu', 4 * MINUTE));
  await decided(inputs[3]!);
  expect(brief(await decided(inputs[4]!))).toEqual(['IncidentOpened:first-notification']);

  expect(await commandsOf('alertmanager:svc-eu-1')).toEqual([]);
  const byId = (l: AnyEnvelope[]) => [...l].sort((x, y) => x.id.localeCompare(y.id));
  const settled = withoutSharedSeen((await incidentEvents()).filter((e) => inputs.some((i) => i.id === (e.data as { inputId?: string }).inputId)));
  expect(byId(settled)).toEqual(byId(expected(inputs, ['eu']).filter(isIncidentEvent)));
  await routers.pop()!.close();
}, 180_000);

test('a silenced ClusterDown decided by one router instance mutes a ServiceDown decided by the other', async () => {
  await producer.send([silence('us')]);
  routers.push(await startInstance(rulesPath, '0'));
  await routers[0]!.ready;
  routers.push(await startInstance(rulesPath, '1'));
  await routers[1]!.ready;
  await bothHolding(routers[0]!, routers[1]!);
  const source = clusterDown(await aliasOn(kafka, routers[0]!.partitions, 'cluster-us'), 'us', 10 * MINUTE);
  const target = serviceDown(await aliasOn(kafka, routers[1]!.partitions, 'svc-us'), 'us', 11 * MINUTE);
  expect(brief(await decided(source))).toEqual(['EventSuppressed:silenced']);
  const [muted, ...more] = await decided(target);
  expect(more).toEqual([]);
  expect(muted!.data).toMatchObject({
    reason: 'inhibited',
    suppressedBy: { kind: 'inhibition', alias: source.alias, inhibitRule: 'cluster-down-mutes-services', source: { reason: 'silenced', silenceId: 'upgrade-us' } },
    shared: { offset: expect.stringMatching(/^[0-9]+$/) },
  });
  expect(await commandsOf(target.alias)).toEqual([]);
}, 240_000);
