/**
 * A machine without PostgreSQL: DATABASE_URL unset and the embedded server forced (`--embedded-postgres`; the
 * machine's own server keeps running for everyone else), `npm start -- --stand-ins --sample` routes the sample
 * alert, the history shows it, and the rows are in the embedded server's database. Stopped with Ctrl-C and
 * started again, the history still has it: the data lives in ALERTBUS_DATA_DIR/postgres.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePortsEnv, npmStart, type NpmStart } from '../support/npm-start';

jest.setTimeout(420_000);

const SAMPLE_ALIAS = 'alertmanager:5f1a9c0d2b3e4f60';

interface IncidentRow {
  incident_id: string;
  alias: string;
  slack_root_ts: string | null;
  pager_alert_id: string | null;
}

const runs: NpmStart[] = [];
let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'alertbus-embedded-'));
  // As root the server runs as the postgres user, which must be able to reach its data folder.
  chmodSync(dataDir, 0o755);
});

afterAll(() => {
  for (const run of runs) for (const pid of run.groupMembers()) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function stopWithCtrlC(run: NpmStart): Promise<void> {
  run.interrupt();
  await run.exited;
  expect(run.output()).toMatch(/^\[alertbus\] stopped$/m);
  expect(run.groupMembers()).toEqual([]);
}

test('with DATABASE_URL unset and the embedded server forced, the sample alert is routed and kept in its history across restarts', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(await freePortsEnv()), ALERTBUS_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  for (const v of ['DATABASE_URL', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'OPSGENIE_API_KEY']) delete env[v];
  const history = `http://127.0.0.1:${env.HISTORY_PORT}`;

  const first = npmStart(['--stand-ins', '--sample', '--embedded-postgres'], env);
  runs.push(first);
  const [, incidentId] = await first.waitFor(/^\[alertbus\] sample incident (\S+): Slack root ts \S+, pager alert \S+$/m);

  const banner = first.output().match(/^\[alertbus\] Postgres: embedded PostgreSQL \d+\.\d+, data in (\S+) — (\S+)$/m);
  expect(banner).not.toBeNull();
  expect(banner![1]).toBe(join(dataDir, 'postgres'));
  expect(banner![2]).toBe(`postgres://postgres:***@127.0.0.1:${env.EMBEDDED_POSTGRES_PORT}/alertbus`);
  const password = readFileSync(join(dataDir, 'postgres.password'), 'utf8').trim();
  expect(first.output()).not.toContain(password);
  expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);

  const listed = (await (await fetch(`${history}/api/incidents?alias=${encodeURIComponent(SAMPLE_ALIAS)}`)).json()) as { incidents: IncidentRow[] };
  expect(listed.incidents).toHaveLength(1);
  expect(listed.incidents[0]).toMatchObject({ incident_id: incidentId, alias: SAMPLE_ALIAS });
  expect(listed.incidents[0]!.slack_root_ts).toBeTruthy();
  expect(listed.incidents[0]!.pager_alert_id).toBeTruthy();

  // The history's rows are in the embedded server, not in the machine's.
  const db = new Client({ connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${env.EMBEDDED_POSTGRES_PORT}/alertbus` });
  await db.connect();
  try {
    const { rows } = await db.query<{ incident_id: string }>('SELECT incident_id FROM incidents WHERE alias = $1', [SAMPLE_ALIAS]);
    expect(rows.map((r) => r.incident_id)).toEqual([incidentId]);
  } finally {
    await db.end();
  }

  await stopWithCtrlC(first);

  const second = npmStart(['--embedded-postgres'], env);
  runs.push(second);
  await second.waitFor(/^\[alertbus\] ready:$/m);
  expect(second.output()).not.toMatch(/initialising/);
  const again = (await (await fetch(`${history}/api/incidents/${incidentId}`)).json()) as IncidentRow;
  expect(again).toMatchObject({ incident_id: incidentId, alias: SAMPLE_ALIAS });
  await stopWithCtrlC(second);
});
