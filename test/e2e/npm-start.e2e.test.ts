/**
 * `npm start` tells the truth at start-up: a service that exits while the stack starts makes it show that
 * service's reason, stop everything and exit non-zero without ever saying "ready"; Ctrl-C while it starts
 * stops everything it started. A machine without what it takes gets told before anything starts.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropTestDatabase } from '../support/db';
import { freePortsEnv, npmStart, type NpmStart } from '../support/npm-start';

jest.setTimeout(240_000);

const READY = /^\[alertbus\] ready/m;

async function baseEnv(): Promise<NodeJS.ProcessEnv> {
  // This file's database and topic prefix (test/setup-env.ts), the run's broker (test/global-setup.ts).
  const env: NodeJS.ProcessEnv = { ...process.env, ...(await freePortsEnv()), LOG_LEVEL: 'warn' };
  for (const v of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_BOT_USER_ID', 'SLACK_BOT_ID', 'OPSGENIE_API_KEY']) delete env[v];
  return env;
}

const runs: NpmStart[] = [];
const start = (args: string[], env: NodeJS.ProcessEnv) => {
  const run = npmStart(args, env);
  runs.push(run);
  return run;
};

afterAll(async () => {
  for (const run of runs) for (const pid of run.groupMembers()) process.kill(pid, 'SIGKILL');
  await dropTestDatabase();
});

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

test('SLACK_SIGNING_SECRET without a bot token: ingest exits, npm start shows why, stops the rest, exits non-zero, never "ready"', async () => {
  const run = start([], { ...(await baseEnv()), SLACK_SIGNING_SECRET: 'a-signing-secret' });
  const code = await run.exited;
  const out = run.output();

  expect(code).not.toBe(0);
  expect(out).toMatch(/ingest exited during start-up \(exit code 1\); its log ends:\n {2}ingest: invalid configuration: SLACK_SIGNING_SECRET is set but neither SLACK_BOT_TOKEN/);
  expect(out).not.toMatch(READY);
  expect(out).toMatch(/^\[alertbus\] stopped$/m);
  expect(run.groupMembers()).toEqual([]);
});

test('Ctrl-C while the services start: everything started is stopped, npm start exits, never "ready"', async () => {
  const run = start([], await baseEnv());
  await run.waitFor(/^\[alertbus\] starting history, router, slack-sink, opsgenie-sink, ingest/m);
  // The line comes just before the five are spawned: wait until they are processes of their own.
  const services = () => run.groupMembers().map(cmdline).filter((c) => /services\/[a-z-]+\/src\/main\.ts/.test(c));
  while (services().length < 5) await new Promise((r) => setTimeout(r, 50));

  run.interrupt();
  const code = await run.exited;
  const out = run.output();
  expect(code).not.toBe(0);
  expect(out).toMatch(/^\[alertbus\] SIGINT during start-up: stopping what was started$/m);
  expect(out).toMatch(/^\[alertbus\] stopped$/m);
  expect(out).not.toMatch(READY);
  expect(run.groupMembers()).toEqual([]);
});

test('a Java older than 17 on PATH and no KAFKA_BROKERS: one line says so and how to install one, nothing is started', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'alertbus-old-java-'));
  try {
    // A `java` that answers like an OpenJDK 11 does, first on PATH.
    writeFileSync(join(bin, 'java'), '#!/bin/sh\necho \'openjdk version "11.0.22" 2024-01-16\' >&2\n');
    chmodSync(join(bin, 'java'), 0o755);
    const env = await baseEnv();
    delete env.KAFKA_BROKERS;
    const run = start([], { ...env, PATH: `${bin}:${env.PATH}` });
    const code = await run.exited;
    const out = run.output();
    expect(code).toBe(1);
    expect(out).toMatch(/^\[alertbus\] missing: a Java runtime ≥ 17 for the local Kafka broker \(found Java 11\) — install: .+$/m);
    expect(out).toMatch(/^\[alertbus\] nothing was started$/m);
    expect(out).not.toMatch(/^\[alertbus\] (Postgres:|KAFKA_BROKERS not set|starting|ready)/m);
    expect(out).not.toMatch(/^\[(postgres|history|router|slack-sink|opsgenie-sink|ingest)\]/m);
    expect(run.groupMembers()).toEqual([]);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('--scale with an unknown service or a bad count: one line says what is wrong, nothing is started', async () => {
  for (const [spec, message] of [
    ['routers=2', /^\[alertbus\] --scale: no service called "routers"; the services are history, router, slack-sink, opsgenie-sink, ingest$/m],
    ['router=0', /^\[alertbus\] --scale: the count of router must be a whole number from 1 to 16, got "0"$/m],
  ] as const) {
    const run = start(['--scale', spec], await baseEnv());
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(message);
    expect(run.output()).toMatch(/^\[alertbus\] nothing was started$/m);
    expect(run.output()).not.toMatch(/^\[alertbus\] (Postgres:|starting)/m);
  }
});

test('a setting npm start reads that cannot be used: one line names it (a password not shown), nothing is started', async () => {
  for (const [env, message] of [
    [{ KAFKA_BROKERS: '127.0.0.1' }, /^\[alertbus\] KAFKA_BROKERS entries must be host:port, got "127\.0\.0\.1"$/m],
    [{ KAFKA_TOPIC_PREFIX: 'my prefix.' }, /^\[alertbus\] KAFKA_TOPIC_PREFIX may hold only letters/m],
    [
      { DATABASE_URL: 'postgres://app:Sup3rS3cret@127.0.0.1:99999/alertbus' },
      /^\[alertbus\] DATABASE_URL must be a postgres:\/\/ URL naming a database, as postgres:\/\/postgres@127\.0\.0\.1:5432\/alertbus; got postgres:\/\/\[redacted\]@127\.0\.0\.1:99999\/alertbus$/m,
    ],
    [{ HISTORY_PORT: '18o81' }, /^\[alertbus\] HISTORY_PORT must be a port from 1 to 65535 \(npm start waits for each service on its port\), got "18o81"$/m],
    [{ EMBEDDED_POSTGRES_PORT: '15433x' }, /^\[alertbus\] EMBEDDED_POSTGRES_PORT /m],
  ] as const) {
    const run = start([], { ...(await baseEnv()), ...env });
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(message);
    expect(run.output()).toMatch(/^\[alertbus\] nothing was started$/m);
    expect(run.output()).not.toContain('Sup3rS3cret');
  }
});

test('a malformed ALERTBUS_NICE: one line says what is wrong, nothing is started', async () => {
  for (const [value, message] of [
    ['histroy=10', /^\[alertbus\] ALERTBUS_NICE: no service called "histroy"; the services are history, router, slack-sink, opsgenie-sink, ingest$/m],
    ['router=25', /^\[alertbus\] ALERTBUS_NICE: the niceness of router must be a whole number from 0 to 19, got "25"$/m],
  ] as const) {
    const run = start([], { ...(await baseEnv()), ALERTBUS_NICE: value });
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(message);
    expect(run.output()).toMatch(/^\[alertbus\] nothing was started$/m);
    expect(run.output()).not.toMatch(/^\[alertbus\] (Postgres:|starting)/m);
  }
});

