/**
 * `npm start -- --stand-ins --embedded-postgres` once it is ready: the embedded PostgreSQL server killed with -9, and
 * then the process that runs it killed with -9 (which leaves the server running on its own), are both taken over by a
 * restart on the same port and data folder while the services wait; an alert sent after is posted once, and Ctrl-C
 * leaves nothing running.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortsEnv, npmStart, repoRoot, type NpmStart } from '../support/npm-start';
import { alive } from '../support/proc';

jest.setTimeout(420_000);

let run: NpmStart;
let ports: Record<string, string>;
let dataHome: string;

beforeAll(async () => {
  ports = await freePortsEnv();
  dataHome = mkdtempSync(join(tmpdir(), 'alertbus-pg-restart-'));
  // As root the server runs as the postgres user, which must be able to reach its data folder.
  chmodSync(dataHome, 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, ...ports, LOG_LEVEL: 'warn', ALERTBUS_DATA_DIR: dataHome };
  for (const v of ['DATABASE_URL', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_USER_ID', 'SLACK_BOT_ID', 'OPSGENIE_API_KEY', 'INGEST_TOKEN']) delete env[v];
  run = npmStart(['--stand-ins', '--embedded-postgres'], env);
  await run.waitFor(/^\[alertbus\] ready/m);
});

afterAll(() => {
  if (run) for (const pid of run.groupMembers()) process.kill(pid, 'SIGKILL');
  rmSync(dataHome, { recursive: true, force: true });
});

const url = (port: string, path: string) => `http://127.0.0.1:${ports[port]}${path}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server's pid (postmaster.pid) and its parent's. */
function server(): { pid: number; ppid: number } {
  const pid = Number(readFileSync(join(dataHome, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return { pid, ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) };
}

function restarts(): number {
  return run.output().match(/^\[alertbus\] postgres restarted \(pid \d+\) and ready$/gm)?.length ?? 0;
}

test('the embedded server, and then the process running it, killed with -9 are taken over by a restart; an alert sent after is posted once', async () => {
  const first = server();
  process.kill(first.pid, 'SIGKILL');
  await run.waitFor(/^\[alertbus\] postgres exited unexpectedly \(exit code 1\); restarting it in 1 s$/m);
  await run.waitFor(/^\[alertbus\] postgres restarted \(pid \d+\) and ready$/m);

  const second = server();
  expect(second.pid).not.toBe(first.pid);
  const seen = restarts();
  process.kill(second.ppid, 'SIGKILL');
  while (restarts() === seen) await sleep(250);
  const [, wrapper] = [...run.output().matchAll(/^\[alertbus\] postgres restarted \(pid (\d+)\) and ready$/gm)].at(-1)!;
  // The server that was left running on its own is stopped, and the one serving now runs under the new process.
  expect(alive(second.pid)).toBe(false);
  expect(server().ppid).toBe(Number(wrapper));

  const sample = JSON.parse(readFileSync(join(repoRoot, 'examples', 'alertmanager-firing.json'), 'utf8')) as {
    alerts: Array<{ labels: Record<string, string>; fingerprint: string }>;
  };
  sample.alerts = sample.alerts.slice(0, 1);
  sample.alerts[0]!.labels.alertname = 'PostgresRestartProbe';
  sample.alerts[0]!.fingerprint = '4a4b4c4d4e4f5051';
  let res: Response;
  // Ingest is ready again once its Postgres-backed parts answer; a 503 meanwhile wrote nothing.
  while ((res = await fetch(url('INGEST_PORT', '/webhooks/alertmanager'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sample) })).status === 503) await sleep(500);
  expect(res.status).toBe(202);
  const alias = ((await res.json()) as { aliases: string[] }).aliases[0]!;
  let rootTs: string | null = null;
  while (!rootTs) {
    const list = (await (await fetch(url('HISTORY_PORT', `/api/incidents?alias=${encodeURIComponent(alias)}`))).json()) as { incidents?: Array<{ slack_root_ts: string | null }> };
    rootTs = list.incidents?.[0]?.slack_root_ts ?? null;
    if (!rootTs) await sleep(300);
  }
  const { messages } = (await (await fetch(url('SLACK_STAND_IN_PORT', '/_stand-in/messages'))).json()) as { messages: Array<{ ts: string; thread_ts?: string }> };
  const roots = messages.filter((m) => (m.thread_ts === undefined || m.thread_ts === m.ts) && JSON.stringify(m).includes('PostgresRestartProbe'));
  expect(roots.map((m) => m.ts)).toEqual([rootTs]);
  expect(run.output()).not.toMatch(/^\[alertbus\] (stopping|(history|router|slack-sink|opsgenie-sink|ingest) exited unexpectedly)/m);

  run.interrupt();
  await run.exited;
  expect(run.output()).toMatch(/^\[alertbus\] stopped$/m);
  expect(run.groupMembers()).toEqual([]);
});
