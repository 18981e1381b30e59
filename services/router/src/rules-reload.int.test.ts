/**
 * Safe reloads against a real broker: a valid change of the rules file takes effect without a restart
 * (file watch, and SIGHUP in a real process); an invalid one is rejected with line-numbered messages,
 * logged and counted, and the old rules keep routing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { EventProducer, createKafka } from '@alertbus/kafka';
import type { Kafka } from 'kafkajs';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { freePort } from '../../../test/support/stack';
import { waitFor } from '../../../test/support/wait';
import { sha256Hex } from '@alertbus/routing';
import { firing, MINUTE } from '@alertbus/routing/src/test-support/alerts';
import { startRouter, type Router } from './index';
import { rootPostOf, rulesFor } from './test-support/root-post';

const INVALID = 'defaults:\n  slack: { channel: "#v3" }\nrules:\n  - name: broken\n    match: [\'team=="db"\']\n    pager: { priority: P9 }\n';

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

beforeAll(async () => {
  kafka = await testKafka('reload-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'reload-int-producer' }));
  await producer.connect();
});

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
});

const metric = async (r: Router, result: string) => {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  const m = new RegExp(`alertbus_router_rules_reload_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
};

test('a valid change applies to the next batch; an invalid one is rejected with line numbers and the old rules keep routing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'alertbus-reload-'));
  const file = path.join(dir, 'rules.yaml');
  writeFileSync(file, rulesFor('#v1'));
  const logs: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (logs.push(chunk.toString()), done()) }));
  router = await startRouter({ brokers: testBrokers(), port: 0, sessionTimeoutMs: 6_000, rulesPath: file, log });
  await router.ready;
  const v1 = sha256Hex(rulesFor('#v1'));
  expect(router.rulesVersion).toBe(v1);
  // These rules have no permissions: section: said at start, as a warning naming the rules' version.
  const openWarnings = () => logs.map((l) => JSON.parse(l) as { level: number; msg: string; rulesVersion?: string }).filter((l) => l.msg.startsWith('SLACK PERMISSIONS ARE OPEN'));
  expect(openWarnings()).toEqual([expect.objectContaining({ level: 40, rulesVersion: v1 })]);

  const x1 = firing('alertmanager:reload-1');
  await producer.send([x1]);
  expect(await rootPostOf(kafka, x1)).toEqual({ channel: '#v1', rulesVersion: v1 });

  // A valid change, picked up by the file watch: no restart.
  writeFileSync(file, rulesFor('#v2'));
  const v2 = sha256Hex(rulesFor('#v2'));
  await waitFor(() => router!.rulesVersion === v2, { timeoutMs: 30_000, what: 'the file watch to apply v2' });
  const x2 = firing('alertmanager:reload-2', { at: MINUTE });
  await producer.send([x2]);
  expect(await rootPostOf(kafka, x2)).toEqual({ channel: '#v2', rulesVersion: v2 });
  expect(await metric(router, 'applied')).toBe(1);
  // And again for the rules reloaded, still without one.
  expect(openWarnings().map((l) => l.rulesVersion)).toEqual([v1, v2]);

  // An invalid change: rejected, every problem named by line and field, logged, counted; v2 keeps routing.
  writeFileSync(file, INVALID);
  await waitFor(async () => (await metric(router!, 'rejected')) >= 1, { timeoutMs: 30_000, what: 'the rejection to be counted' });
  expect(router.rulesVersion).toBe(v2);
  const rejection = logs.map((l) => JSON.parse(l) as { msg: string; problems?: string[] }).find((l) => l.problems);
  expect(rejection?.problems).toEqual([
    `${file}:5:13: rules[0].match[0]: bad matcher "team==\\"db\\"": the value must be a double-quoted string or a word without spaces, quotes or commas`,
    `${file}:6:24: rules[0].pager.priority: must be one of "P1", "P2", "P3", "P4", "P5"`,
  ]);
  expect(rejection?.msg).toContain('routing rules rejected; the rules in force stay');
  const x3 = firing('alertmanager:reload-3', { at: 2 * MINUTE });
  await producer.send([x3]);
  expect(await rootPostOf(kafka, x3)).toEqual({ channel: '#v2', rulesVersion: v2 });

  // An emptied file (an editor's truncate-then-write, a bad deploy) is refused too: it would silently wipe every rule.
  for (const [i, text] of ['', '# every rule commented out\n'].entries()) {
    writeFileSync(file, text);
    await waitFor(async () => (await metric(router!, 'rejected')) >= 2 + i, { timeoutMs: 30_000, what: `the emptied file ${i} to be rejected` });
    expect(router.rulesVersion).toBe(v2);
  }
  expect(logs.some((l) => (JSON.parse(l) as { problems?: string[] }).problems?.some((p) => p.includes('is empty: no rules')))).toBe(true);
  const x4 = firing('alertmanager:reload-4', { at: 3 * MINUTE });
  await producer.send([x4]);
  expect(await rootPostOf(kafka, x4)).toEqual({ channel: '#v2', rulesVersion: v2 });
  writeFileSync(file, INVALID);
  await waitFor(async () => (await metric(router!, 'rejected')) >= 4, { timeoutMs: 30_000, what: 'the invalid file again' });

  // What SIGHUP does, asked directly: the same messages, the same outcome.
  const again = await router.reloadRules('signal');
  expect(again.result).toBe('rejected');
  expect(again.rulesVersion).toBe(v2);
  expect(again.message!.split('\n')).toHaveLength(2);
  expect(again.message).toMatch(/rules\.yaml:5:13: rules\[0\]\.match\[0\]/);
  await router.close();
  router = null;
});

test('SIGHUP reloads the rules of a running router process (file watch off)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'alertbus-sighup-'));
  const file = path.join(dir, 'rules.yaml');
  writeFileSync(file, rulesFor('#before'));
  const port = await freePort();
  const root = path.resolve(__dirname, '../../..');
  const output: string[] = [];
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'services/router/src/main.ts')], {
    cwd: root,
    env: { ...process.env, ROUTING_RULES: file, ROUTING_RULES_WATCH: 'false', ROUTER_PORT: String(port), ROUTER_INSTANCE_ID: 'sighup', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (b: Buffer) => output.push(b.toString()));
  proc.stderr.on('data', (b: Buffer) => output.push(b.toString()));
  const url = `http://127.0.0.1:${port}`;
  const metrics = async () => (await fetch(`${url}/metrics`)).text();
  const inForce = async (rules: string) => new RegExp(`alertbus_router_rules_info\\{version="${sha256Hex(rules)}"[^}]*\\} 1`).test(await metrics());
  try {
    await waitFor(async () => (await fetch(`${url}/readyz`)).ok, { timeoutMs: 90_000, what: `router ready:\n${output.join('')}` });
    const after = rulesFor('#after');
    writeFileSync(file, after);
    // Not watched: nothing changes until the signal.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await inForce(rulesFor('#before'))).toBe(true);
    proc.kill('SIGHUP');
    await waitFor(() => inForce(after), {
      timeoutMs: 30_000,
      what: 'the SIGHUP reload',
    });
    expect(await metrics()).toMatch(/alertbus_router_rules_reload_total\{[^}]*result="applied"[^}]*\} 1/);
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
});
