/** startIngest as `npm start` and main.ts run it: real Kafka, a real port, a graceful close. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { createLogger } from '@alertbus/common';
import { TOPICS } from '@alertbus/schemas';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { startSlackStandIn } from '@alertbus/stand-ins';
import { startIngest, type RunningIngest } from './index';
import { settled } from './test-support/retry';

let ingest: RunningIngest | undefined;

afterAll(async () => {
  await ingest?.close();
});

test('starts on port 0, accepts a webhook over HTTP after Kafka acknowledged it, and closes', async () => {
  ingest = await startIngest(
    { port: 0, host: '127.0.0.1', bodyLimit: 1024 * 1024, kafkaBrokers: testBrokers(), kafkaTimeoutMs: 10_000 },
    { log: createLogger('ingest-test', 'silent') },
  );
  expect(ingest.port).toBeGreaterThan(0);
  expect(ingest.url).toBe(`http://127.0.0.1:${ingest.port}`);
  expect((await fetch(`${ingest.url}/readyz`)).status).toBe(200);

  const res = await fetch(`${ingest.url}/webhooks/generic`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ alias: 'nightly-backup', title: 'Nightly backup failed', severity: 'warning' }),
  });
  expect(res.status).toBe(202);
  const body = (await res.json()) as { ids: string[]; aliases: string[] };
  expect(body.aliases).toEqual(['generic:nightly-backup']);

  const kafka = await settled(() => testKafka('ingest-index-test'));
  const records = await settled(() => readTopic(kafka, TOPICS.alertsReceived));
  const mine = records.filter((r) => r.event?.id === body.ids[0]);
  expect(mine).toHaveLength(1);
  expect(mine[0]!.key).toBe('generic:nightly-backup');
  expect(mine[0]!.event!.data).toMatchObject({ source: 'generic', title: 'Nightly backup failed', status: 'firing' });

  const running = ingest;
  await running.close();
  expect(running.producer.connected).toBe(false);
  await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
});

test('listening on every interface without a token refuses to start; with INGEST_ALLOW_OPEN it starts with a loud warning; with a token, quietly', async () => {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const config = { port: 0, host: '0.0.0.0', bodyLimit: 1024 * 1024, kafkaBrokers: testBrokers(), kafkaTimeoutMs: 10_000 };

  await expect(startIngest(config, { log: pino({ level: 'warn' }, sink) })).rejects.toThrow(/^INGEST_HOST=0\.0\.0\.0 is not a loopback address/);

  const open = await startIngest({ ...config, allowOpen: true }, { log: pino({ level: 'warn' }, sink) });
  await open.close();
  const warnings = lines.filter((l) => l.level === 40);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]!.msg).toMatch(/^INGEST IS OPEN: listening on 0\.0\.0\.0 without INGEST_TOKEN/);

  lines.length = 0;
  const guarded = await startIngest({ ...config, tokens: [{ name: 'am', token: 'index-test-token' }] }, { log: pino({ level: 'warn' }, sink) });
  await guarded.close();
  expect(lines.filter((l) => /INGEST IS OPEN/.test(l.msg))).toEqual([]);
});

test('with Socket Mode down (a token Slack refuses), ingest is ready all the same and takes webhooks; the metric says the socket is closed', async () => {
  const slack = await startSlackStandIn({ appTokens: ['xapp-1-the-right-one'] });
  const running = await startIngest(
    {
      port: 0,
      host: '127.0.0.1',
      bodyLimit: 1024 * 1024,
      kafkaBrokers: testBrokers(),
      kafkaTimeoutMs: 10_000,
      slack: { appToken: 'xapp-1-a-wrong-one', apiUrl: slack.url, botUserId: 'U0BOT', ackTimeoutMs: 2_500 },
    },
    { log: createLogger('ingest-test', 'silent') },
  );
  try {
    // Before, /readyz answered 503 while the socket was not open, and Kubernetes took ingest out of its Service.
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
    const res = await fetch(`${running.url}/webhooks/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ alias: 'socket-down', title: 'Disk full', severity: 'critical' }),
    });
    expect(res.status).toBe(202);
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metrics).toMatch(/^alertbus_ingest_slack_socket_connected({service="ingest"})? 0$/m);
  } finally {
    await running.close();
    await slack.close();
  }
});
