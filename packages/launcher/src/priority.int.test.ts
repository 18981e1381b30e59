/**
 * The services' CPU priority with real child processes: a service runs at the niceness `ALERTBUS_NICE` gives it
 * (every thread of it), the others at the launcher's own, and without the variable at the README's default.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DEFAULT_NICE, parseNice } from './priority';
import { REPO_ROOT, SERVICES, serviceDef, startService, type ServiceDef, type ServiceName } from './services';
import type { Supervisor } from './supervisor';
import { threadStats } from '../../../test/support/proc';

/** Stands in for a service's compiled entry point: answers its readiness path on its port variable, does nothing. */
const FAKE_MAIN = `
  const http = require('node:http');
  http.createServer((q, s) => { s.setHeader('x-alertbus-pid', String(process.pid)); s.end('ok'); })
    .listen(Number(process.env[process.env.FAKE_PORT_VAR]), '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
`;

/** The niceness of every thread of `pid` (Linux's /proc; empty elsewhere): the 19th field, the 17th after the comm. */
const threadNiceness = (pid: number): number[] => threadStats(pid).map((fields) => Number(fields[16]));

describe("the services' CPU priority", () => {
  let root: string;
  let running: Supervisor[] = [];
  const own = getPriority();

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'alertbus-nice-'));
    mkdirSync(join(root, 'fake', 'dist'), { recursive: true });
    writeFileSync(join(root, 'fake', 'dist', 'main.js'), FAKE_MAIN);
  });
  afterEach(async () => {
    await Promise.all(running.map((s) => s.stop()));
    running = [];
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Starts `name`'s row of the table as the launcher does, with a fake entry point; resolves with its pid. */
  async function start(name: ServiceName, env: NodeJS.ProcessEnv): Promise<number> {
    const def: ServiceDef = { ...serviceDef(name), dir: 'fake', main: 'main', nodeArgs: undefined };
    const { supervisor } = await startService(def, { root, runtime: 'dist', env: { ...env, FAKE_PORT_VAR: def.portVar } });
    running.push(supervisor);
    return supervisor.pids()[0]!;
  }

  it('runs a service named in ALERTBUS_NICE that much nicer than the launcher, every thread, and the others as the launcher', async () => {
    const { ALERTBUS_NICE: _, ...env } = process.env;
    const history = await start('history', { ...env, ALERTBUS_NICE: 'history=7,router=3' });
    const ingest = await start('ingest', { ...env, ALERTBUS_NICE: 'history=7,router=3' });
    expect(getPriority(history)).toBe(Math.min(own + 7, 19));
    expect(getPriority(ingest)).toBe(own);
    for (const n of threadNiceness(history)) expect(n).toBe(Math.min(own + 7, 19));
    for (const n of threadNiceness(ingest)) expect(n).toBe(own);
  });

  it("runs every service at the README's default when ALERTBUS_NICE is not set", async () => {
    const row = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('| `ALERTBUS_NICE` |'));
    const documented = /^\| `ALERTBUS_NICE` \| [^|]+ \| `([^`]+)`/.exec(row ?? '')?.[1];
    expect(documented).toBe(DEFAULT_NICE);
    const expected = parseNice(DEFAULT_NICE, SERVICES.map((s) => s.name));

    const { ALERTBUS_NICE: _, ...env } = process.env;
    for (const def of SERVICES) {
      const pid = await start(def.name as ServiceName, env);
      expect({ service: def.name, nice: getPriority(pid) }).toEqual({ service: def.name, nice: Math.min(own + (expected.get(def.name) ?? 0), 19) });
    }
  });
});
