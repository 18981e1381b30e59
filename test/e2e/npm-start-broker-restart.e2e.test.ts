/**
 * `npm start -- --stand-ins` with no KAFKA_BROKERS runs its own Kafka broker: once the stack is ready, that broker
 * killed with -9 is started again on its port and data dir while the services wait for it (none exits). An alert
 * sent while it is away is answered 503 (nothing written: ingest refuses what it cannot hand to Kafka) or, if it
 * was handed over, 202 and posted once; one sent after it is back is posted once, and one posted before it died is
 * not posted again.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropTestDatabase } from '../support/db';
import { freePortsEnv, npmStart, repoRoot, type NpmStart } from '../support/npm-start';

jest.setTimeout(420_000);

let run: NpmStart;
let ports: Record<string, string>;
let dataHome: string;

beforeAll(async () => {
  ports = await freePortsEnv();
  dataHome = mkdtempSync(join(tmpdir(), 'alertbus-broker-restart-'));
  const env: NodeJS.ProcessEnv = { ...process.env, ...ports, LOG_LEVEL: 'warn', ALERTBUS_DATA_DIR: dataHome };
  for (const v of ['KAFKA_BROKERS', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_USER_ID', 'SLACK_BOT_ID', 'OPSGENIE_API_KEY', 'INGEST_TOKEN']) delete env[v];
  run = npmStart(['--stand-ins'], env);
  await run.waitFor(/^\[alertbus\] ready/m);
});

afterAll(async () => {
  if (run) for (const pid of run.groupMembers()) process.kill(pid, 'SIGKILL');
  await dropTestDatabase();
  rmSync(dataHome, { recursive: true, force: true });
});

const url = (port: string, path: string) => `http://127.0.0.1:${ports[port]}${path}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alert(name: string, fingerprint: string): string {
  const sample = JSON.parse(readFileSync(join(repoRoot, 'examples', 'alertmanager-firing.json'), 'utf8')) as {
    alerts: Array<{ labels: Record<string, string>; fingerprint: string }>;
  };
  sample.alerts = sample.alerts.slice(0, 1);
  sample.alerts[0]!.labels.alertname = name;
  sample.alerts[0]!.fingerprint = fingerprint;
  return JSON.stringify(sample);
}

function send(name: string, fingerprint: string): Promise<Response> {
  return fetch(url('INGEST_PORT', '/webhooks/alertmanager'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: alert(name, fingerprint) });
}

/** The Slack root message of the incident of `alias`, once history has it. */
async function postedRoot(alias: string): Promise<string> {
  for (;;) {
    const res = await fetch(url('HISTORY_PORT', `/api/incidents?alias=${encodeURIComponent(alias)}`));
    const list = (await res.json()) as { incidents?: Array<{ slack_root_ts: string | null }> };
    const ts = list.incidents?.[0]?.slack_root_ts;
    if (ts) return ts;
    await sleep(300);
  }
}

/** The root messages the Slack stand-in holds whose text names `name`. */
async function rootsNaming(name: string): Promise<string[]> {
  const { messages } = (await (await fetch(url('SLACK_STAND_IN_PORT', '/_stand-in/messages'))).json()) as {
    messages: Array<{ ts: string; thread_ts?: string }>;
  };
  return messages.filter((m) => (m.thread_ts === undefined || m.thread_ts === m.ts) && JSON.stringify(m).includes(name)).map((m) => m.ts);
}

test('the local broker killed with -9 is started again on its port and data dir; the services ride it out and nothing is lost or posted twice', async () => {
  const [, address, pid] = run.output().match(/^\[alertbus\] kafka: Kafka \S+ broker ready at (\S+) \(pid (\d+)\)/m)!;

  const before = await send('BrokerRestartBefore', '1a1b1c1d1e1f2021');
  expect(before.status).toBe(202);
  const beforeAlias = ((await before.json()) as { aliases: string[] }).aliases[0]!;
  const beforeTs = await postedRoot(beforeAlias);

  process.kill(Number(pid), 'SIGKILL');
  const escaped = address!.replace(/\./g, '\\.');
  await run.waitFor(new RegExp(`^\\[alertbus\\] the Kafka broker \\(pid ${pid}\\) exited unexpectedly; restarting it on ${escaped} in 1 s`, 'm'));
  // Sent while the broker is away; answered once ingest knows whether Kafka took it.
  const during = send('BrokerRestartDuring', '2a2b2c2d2e2f3031');

  const [, newPid] = await run.waitFor(new RegExp(`^\\[alertbus\\] Kafka broker restarted \\(pid (\\d+)\\) and ready at ${escaped}$`, 'm'));
  expect(newPid).not.toBe(pid);
  const duringRes = await during;
  expect([202, 503]).toContain(duringRes.status);
  const duringBody = (await duringRes.json()) as { aliases?: string[]; message?: string };

  // Ingest is ready again once its probe sees the broker back: then it takes alerts as before.
  while ((await fetch(url('INGEST_PORT', '/readyz')).then((r) => r.status, () => 0)) !== 200) await sleep(500);
  const after = await send('BrokerRestartAfter', '3a3b3c3d3e3f4041');
  expect(after.status).toBe(202);
  const afterAlias = ((await after.json()) as { aliases: string[] }).aliases[0]!;
  const afterTs = await postedRoot(afterAlias);
  expect(await rootsNaming('BrokerRestartAfter')).toEqual([afterTs]);

  if (duringRes.status === 202) {
    const duringTs = await postedRoot(duringBody.aliases![0]!);
    expect(await rootsNaming('BrokerRestartDuring')).toEqual([duringTs]);
  } else {
    expect(duringBody.message).toMatch(/nothing was written/);
    expect(await rootsNaming('BrokerRestartDuring')).toEqual([]);
  }
  // The broker kept its records and the consumers their offsets: what was posted before is not posted again.
  expect(await rootsNaming('BrokerRestartBefore')).toEqual([beforeTs]);
  expect(run.output()).not.toMatch(/^\[alertbus\] (\S+ exited unexpectedly|stopping)/m);

  run.interrupt();
  await run.exited;
  expect(run.output()).toMatch(/^\[alertbus\] stopped$/m);
  expect(run.groupMembers()).toEqual([]);
  expect(() => process.kill(Number(newPid), 0)).toThrow();
});
