/**
 * A router (re)starting while its rules file is refused (invalid, empty, unreadable) starts with the last good rules
 * from router.rules.v1, routes by them and says so (error log with the file's problems, a gauge, the reload counter);
 * fixing the file applies it. With no last good rules at all it refuses to start, as it always did.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { ROUTER_RULES_LATEST_KEY, TOPICS } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { RulesError, sha256Hex } from '@alertbus/routing';
import { firing, MINUTE } from '@alertbus/routing/src/test-support/alerts';
import { startRouter, type Router } from './index';
import { rootPostOf, rulesFor } from './test-support/root-post';

const INVALID = 'defaults:\n  slack: { channel: "#bad" }\nrules:\n  - name: broken\n    match: [team=="x"]\n';

let kafka: Kafka;
let producer: EventProducer;
const routers: Router[] = [];

beforeAll(async () => {
  kafka = await testKafka('last-good-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'last-good-int-producer' }));
  await producer.connect();
});

afterAll(async () => {
  for (const r of routers) await r.close();
  await producer.disconnect();
});

function capture(): { log: pino.Logger; lines: Array<{ level: number; msg: string; problems?: string[]; rulesVersion?: string }> } {
  const lines: Array<{ level: number; msg: string; problems?: string[]; rulesVersion?: string }> = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) }));
  return { log, lines };
}

async function start(file: string, log: pino.Logger, watchRules = false): Promise<Router> {
  const r = await startRouter({ brokers: testBrokers(), port: 0, sessionTimeoutMs: 6_000, instanceId: 'a', rulesPath: file, watchRules, log });
  routers.push(r);
  return r;
}

async function stop(r: Router): Promise<void> {
  await r.close();
  routers.splice(routers.indexOf(r), 1);
}

const metrics = async (r: Router) => (await fetch(`${r.url}/metrics`)).text();
const gauge = async (r: Router, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'm').exec(await metrics(r))?.[1] ?? NaN);
const reloads = async (r: Router, result: string) =>
  Number(new RegExp(`alertbus_router_rules_reload_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`).exec(await metrics(r))?.[1] ?? 0);
const stored = async () => (await readTopic(kafka, TOPICS.routerRules)).map((r) => ({ key: r.key, value: r.value }));

test('a first start ever with an invalid file still refuses to start, with the line-numbered problems', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'alertbus-last-good-'));
  const file = path.join(dir, 'rules.yaml');
  writeFileSync(file, INVALID);
  const { log } = capture();
  const started = start(file, log);
  await expect(started).rejects.toThrow(RulesError);
  await expect(started).rejects.toThrow(/invalid routing rules:\n.*rules\.yaml:5:13: rules\[0\]\.match\[0\]: bad matcher/);
  expect(await stored()).toEqual([]);
});

test('a router starting with a refused file routes by the last good rules, says so, and applies the fixed file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'alertbus-last-good-'));
  const file = path.join(dir, 'rules.yaml');
  const v1 = sha256Hex(rulesFor('#v1'));
  const v2 = sha256Hex(rulesFor('#v2'));

  // Router A starts with good rules v1: their text is kept under their version and as the latest.
  writeFileSync(file, rulesFor('#v1'));
  const a = await start(file, capture().log);
  await a.ready;
  expect(await stored()).toEqual([
    { key: v1, value: rulesFor('#v1') },
    { key: ROUTER_RULES_LATEST_KEY, value: rulesFor('#v1') },
  ]);
  expect(await gauge(a, 'alertbus_router_rules_file_rejected')).toBe(0);
  await stop(a);

  // The file becomes invalid, then the router restarts (a kill, an OOM, a drain): it starts on v1 and routes.
  writeFileSync(file, INVALID);
  const { log, lines } = capture();
  const b = await start(file, log, true);
  await b.ready;
  expect(b.rulesVersion).toBe(v1);
  const x1 = firing('alertmanager:last-good-1');
  await producer.send([x1]);
  expect(await rootPostOf(kafka, x1)).toEqual({ channel: '#v1', rulesVersion: v1 });
  const refused = lines.find((l) => l.problems);
  expect(refused?.level).toBe(50);
  expect(refused?.rulesVersion).toBe(v1);
  expect(refused?.msg).toContain(`routing rules file refused at start; routing by the last good rules (version ${v1})`);
  expect(refused?.problems).toEqual([
    `${file}:5:13: rules[0].match[0]: bad matcher "team==\\"x\\"": the value must be a double-quoted string or a word without spaces, quotes or commas`,
  ]);
  expect(await gauge(b, 'alertbus_router_rules_file_rejected')).toBe(1);
  expect(await reloads(b, 'rejected')).toBe(1);
  expect(await metrics(b)).toMatch(new RegExp(`alertbus_router_rules_info\\{version="${v1}"[^}]*\\} 1`));
  expect((await fetch(`${b.url}/readyz`)).status).toBe(200);

  // The file put back as it was (the rules in force): valid again, said by the gauge, though nothing changes.
  writeFileSync(file, rulesFor('#v1'));
  await waitFor(async () => (await gauge(b, 'alertbus_router_rules_file_rejected')) === 0, { timeoutMs: 30_000, what: 'v1 back in the file' });
  expect(await reloads(b, 'unchanged')).toBe(1);
  writeFileSync(file, INVALID);
  await waitFor(async () => (await reloads(b, 'rejected')) === 2, { timeoutMs: 30_000, what: 'the invalid file again' });
  expect(await gauge(b, 'alertbus_router_rules_file_rejected')).toBe(1);
  expect(b.rulesVersion).toBe(v1);

  // Fixing the file applies it (file watch): the gauge goes back to 0 and v2 becomes the latest good rules.
  writeFileSync(file, rulesFor('#v2'));
  await waitFor(() => b.rulesVersion === v2, { timeoutMs: 30_000, what: 'the fixed file to be applied' });
  expect(await gauge(b, 'alertbus_router_rules_file_rejected')).toBe(0);
  expect(await reloads(b, 'applied')).toBe(1);
  const x2 = firing('alertmanager:last-good-2', { at: MINUTE });
  await producer.send([x2]);
  expect(await rootPostOf(kafka, x2)).toEqual({ channel: '#v2', rulesVersion: v2 });
  expect((await stored()).slice(2)).toEqual([
    { key: v2, value: rulesFor('#v2') },
    { key: ROUTER_RULES_LATEST_KEY, value: rulesFor('#v2') },
  ]);
  await stop(b);

  // An emptied or unreadable file at start: the latest good rules (now v2) again.
  writeFileSync(file, '');
  for (const refused of [file, path.join(dir, 'gone.yaml')]) {
    const c = await start(refused, capture().log);
    expect(c.rulesVersion).toBe(v2);
    expect(await gauge(c, 'alertbus_router_rules_file_rejected')).toBe(1);
    await stop(c);
  }
});
