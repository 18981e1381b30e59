/**
 * `npm start -- --stand-ins --sample` once it is ready: a service killed with -9 is started again (its
 * transactions and ledgers make that safe) while the rest keeps running, and an alert sent after is posted once.
 * With HISTORY_API_TOKENS set and no ALERTBUS_TOKEN, --sample reads history with one of those tokens; a token
 * history refuses is said at once rather than after a minute of 401s.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { routeSample } from '../../scripts/sample';
import { dropTestDatabase } from '../support/db';
import { freePortsEnv, npmStart, repoRoot, type NpmStart } from '../support/npm-start';

jest.setTimeout(300_000);

const VIEWER = 'viewer-token-0123456789abcdef';
const OPERATOR = 'operator-token-0123456789abcdef';

let run: NpmStart;
let ports: Record<string, string>;

beforeAll(async () => {
  ports = await freePortsEnv();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...ports,
    LOG_LEVEL: 'warn',
    HISTORY_API_TOKENS: `alice:operator:${OPERATOR},grafana:viewer:${VIEWER}`,
  };
  for (const v of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_USER_ID', 'SLACK_BOT_ID', 'OPSGENIE_API_KEY', 'ALERTBUS_TOKEN', 'HISTORY_TOKEN']) delete env[v];
  run = npmStart(['--stand-ins', '--sample'], env);
  await run.waitFor(/^\[alertbus\] ready/m);
});

afterAll(async () => {
  if (run) for (const pid of run.groupMembers()) process.kill(pid, 'SIGKILL');
  await dropTestDatabase();
});

const url = (port: string, path: string) => `http://127.0.0.1:${ports[port]}${path}`;

async function pidOf(port: string, path: string): Promise<string | null> {
  const res = await fetch(url(port, path));
  await res.body?.cancel();
  return res.ok ? res.headers.get('x-alertbus-pid') : null;
}

test('--sample with only HISTORY_API_TOKENS set reads history with one of them and shows the incident', async () => {
  await run.waitFor(/^\[alertbus\] (sample incident .+|the sample incident did not show up.+)$/m);
  expect(run.output()).toMatch(/^\[alertbus\] sample incident [\w-]+: Slack root ts \d+\.\d+, pager alert /m);
  expect(run.output()).not.toMatch(/did not show up/);
});

test('a sample whose history token is refused says so at once, not after the wait', async () => {
  const said: string[] = [];
  await routeSample({
    root: repoRoot,
    ingest: url('INGEST_PORT', ''),
    history: url('HISTORY_PORT', ''),
    livePager: true,
    env: { ALERTBUS_TOKEN: 'not-a-token-history-knows' },
    say: (m) => said.push(m),
    // Far longer than this test's timeout: the answer must come from the 401, not the deadline.
    timeoutMs: 3_600_000,
  });
  expect(said.at(-1)).toBe('history answered 401 to the sample\'s query: set ALERTBUS_TOKEN to a viewer token of HISTORY_API_TOKENS');
});

test('the router killed with -9 is started again with a new pid; ingest keeps answering; an alert sent after is posted once', async () => {
  const routerPid = await pidOf('ROUTER_PORT', '/readyz');
  const ingestPid = await pidOf('INGEST_PORT', '/healthz');
  expect(routerPid).toMatch(/^\d+$/);
  expect(ingestPid).toMatch(/^\d+$/);

  process.kill(Number(routerPid), 'SIGKILL');
  await run.waitFor(/^\[alertbus\] router exited unexpectedly \(signal SIGKILL\); restarting it in 1 s$/m);
  const ingestAnswers: Array<string | null> = [];
  let newPid: string | null = null;
  while (!newPid || newPid === routerPid) {
    ingestAnswers.push(await pidOf('INGEST_PORT', '/healthz'));
    newPid = await pidOf('ROUTER_PORT', '/readyz').catch(() => null);
    await new Promise((r) => setTimeout(r, 250));
  }
  await run.waitFor(new RegExp(`^\\[alertbus\\] router restarted \\(pid ${newPid}\\) and ready$`, 'm'));
  expect(new Set(ingestAnswers)).toEqual(new Set([ingestPid]));
  expect(run.output()).not.toMatch(/^\[alertbus\] stopping/m);

  const sample = JSON.parse(readFileSync(join(repoRoot, 'examples', 'alertmanager-firing.json'), 'utf8')) as {
    alerts: Array<{ labels: Record<string, string>; fingerprint: string }>;
  };
  sample.alerts[0]!.labels.alertname = 'RouterRestartProbe';
  sample.alerts[0]!.fingerprint = '0a0b0c0d0e0f1011';
  const res = await fetch(url('INGEST_PORT', '/webhooks/alertmanager'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sample) });
  expect(res.status).toBe(202);
  const alias = ((await res.json()) as { aliases: string[] }).aliases[0]!;

  let rootTs: string | null = null;
  while (!rootTs) {
    const list = (await (await fetch(url('HISTORY_PORT', `/api/incidents?alias=${encodeURIComponent(alias)}`), { headers: { authorization: `Bearer ${VIEWER}` } })).json()) as {
      incidents: Array<{ slack_root_ts: string | null }>;
    };
    rootTs = list.incidents[0]?.slack_root_ts ?? null;
    if (!rootTs) await new Promise((r) => setTimeout(r, 300));
  }
  const { messages } = (await (await fetch(url('SLACK_STAND_IN_PORT', '/_stand-in/messages'))).json()) as {
    messages: Array<{ ts: string; thread_ts?: string }>;
  };
  const roots = messages.filter((m) => (m.thread_ts === undefined || m.thread_ts === m.ts) && JSON.stringify(m).includes('RouterRestartProbe'));
  expect(roots.map((m) => m.ts)).toEqual([rootTs]);

  run.interrupt();
  await run.exited;
  expect(run.output()).toMatch(/^\[alertbus\] stopped$/m);
  expect(run.groupMembers()).toEqual([]);
});
