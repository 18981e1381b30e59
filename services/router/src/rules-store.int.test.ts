/**
 * The rules store on the real broker: a large rules text (over half the broker's 1 MiB, under the store's own limit) is
 * kept as the last good rules, and one the topic refuses as too large is said and not kept, without waiting for ever.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import { ROUTER_RULES_LATEST_KEY, TOPICS } from '@alertbus/schemas';
import { sha256Hex } from '@alertbus/routing';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { RulesStore } from './rules-store';

let kafka: Kafka;
const lines: Array<{ level: number; msg: string; bytes?: number }> = [];
const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) }));

beforeAll(async () => {
  kafka = await testKafka('rules-store-int');
});

/** A rules file of about `kib` KiB: a few lines of rules, padded with comments. */
const rulesText = (channel: string, kib: number) =>
  Buffer.from(`defaults:\n  slack: { channel: "${channel}" }\n` + `# ${'x'.repeat(1000)}\n`.repeat(kib));
const stored = (text: Buffer, origin = '/etc/alertbus/rules.yaml') => ({ version: sha256Hex(text), text, origin });

test('rules of 600 KiB are kept (version and latest), though both together are over the broker\'s 1 MiB', async () => {
  const store = new RulesStore({ kafka, log });
  try {
    const big = stored(rulesText('#big', 600));
    await store.publishOnce(big);
    expect(await store.latest()).toEqual(big);
    const records = (await readTopic(kafka, TOPICS.routerRules)).filter((r) => r.key === big.version || r.key === ROUTER_RULES_LATEST_KEY);
    expect(records.map((r) => r.key)).toEqual([big.version, ROUTER_RULES_LATEST_KEY]);
  } finally {
    await store.close();
  }
});

test('rules the topic refuses as too large apply unkept: said once, not retried for ever; the last good rules stay', async () => {
  const admin = kafka.admin();
  await admin.connect();
  const store = new RulesStore({ kafka, log, retry: { minBackoffMs: 50, maxBackoffMs: 100 } });
  try {
    const small = stored(rulesText('#small', 1));
    await store.publishOnce(small);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: TOPICS.routerRules, configEntries: [{ name: 'max.message.bytes', value: String(100 * 1024) }] }],
    });
    const large = stored(rulesText('#large', 300));
    lines.length = 0;
    expect(await store.publish(large)).toBe(true);
    const warned = lines.filter((l) => /refused by .*router\.rules\.v1 as too large/.test(l.msg));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, bytes: large.text.length });
    expect(lines.filter((l) => /retrying/.test(l.msg))).toEqual([]);
    expect(await store.latest()).toEqual(small);
  } finally {
    await store.close();
    await admin.disconnect();
  }
});
