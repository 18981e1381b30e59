import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

export type ServiceName = 'ingest' | 'router' | 'slack-sink' | 'opsgenie-sink' | 'history';

const ENTRY: Record<ServiceName, { file: string; portVar: string }> = {
  ingest: { file: 'services/ingest/src/main.ts', portVar: 'INGEST_PORT' },
  router: { file: 'services/router/src/main.ts', portVar: 'ROUTER_PORT' },
  'slack-sink': { file: 'services/slack-sink/src/main.ts', portVar: 'SLACK_SINK_PORT' },
  'opsgenie-sink': { file: 'services/opsgenie-sink/src/main.ts', portVar: 'OPSGENIE_SINK_PORT' },
  history: { file: 'services/history/src/main.ts', portVar: 'HISTORY_PORT' },
};

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

interface Running {
  proc: ChildProcess;
  port: number;
  output: string[];
  /** Resolves once the process's stdout and stderr are closed: its last lines are in `output` and the log file. */
  closed: Promise<void>;
}

export interface StackOptions {
  /**
   * Where each service's whole output is also appended, as `<service>.log` (kept after the run, e.g. to grep it
   * for secrets); default test-artifacts/logs/<the test file's topic prefix>.
   */
  logDir?: string;
  /** LOG_LEVEL of the services; default STACK_LOG_LEVEL or warn. */
  logLevel?: string;
}

/**
 * The services as real child processes (as `npm start` runs them), with the environment of this test
 * file (its topic prefix and database), so a test can SIGKILL one and start it again.
 */
export class Stack {
  private readonly running = new Map<ServiceName, Running>();
  private readonly ports = new Map<ServiceName, number>();

  readonly logDir: string;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly opts: StackOptions = {},
  ) {
    const tag = (env.KAFKA_TOPIC_PREFIX ?? process.env.KAFKA_TOPIC_PREFIX ?? 'stack').replace(/\.$/, '');
    this.logDir = opts.logDir ?? join(root, 'test-artifacts', 'logs', tag);
  }

  /** The file a service's output is appended to (every start of it). */
  logFile(name: ServiceName): string {
    return join(this.logDir, `${name}.log`);
  }

  url(name: ServiceName): string {
    const port = this.ports.get(name);
    if (!port) throw new Error(`${name} was never started`);
    return `http://127.0.0.1:${port}`;
  }

  output(name: ServiceName): string {
    return this.running.get(name)?.output.join('') ?? '';
  }

  async start(name: ServiceName, extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
    const { file, portVar } = ENTRY[name];
    // A port given in the environment is kept (a test that must know ingest's URL before it starts).
    const port = this.ports.get(name) ?? (Number(extraEnv[portVar] ?? this.env[portVar]) || (await freePort()));
    this.ports.set(name, port);
    const output: string[] = [];
    mkdirSync(this.logDir, { recursive: true });
    const proc = spawn(process.execPath, ['--import', 'tsx', join(root, file)], {
      cwd: root,
      env: { ...process.env, ...this.env, ...extraEnv, [portVar]: String(port), LOG_LEVEL: this.opts.logLevel ?? process.env.STACK_LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => {
      output.push(b.toString());
      appendFileSync(this.logFile(name), b);
      if (output.length > 400) output.splice(0, output.length - 400);
      if (process.env.STACK_VERBOSE) process.stderr.write(`[${name}] ${b.toString()}`);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const closed = new Promise<void>((res) => proc.once('close', () => res()));
    this.running.set(name, { proc, port, output, closed });
    await this.waitReady(name, proc);
  }

  private async waitReady(name: ServiceName, proc: ChildProcess, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`${name} exited during start (${proc.exitCode ?? proc.signalCode}):\n${this.output(name).slice(-4000)}`);
      }
      try {
        const res = await fetch(`${this.url(name)}/readyz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${name} not ready after ${timeoutMs} ms:\n${this.output(name).slice(-4000)}`);
  }

  /** SIGKILL: no shutdown hooks, no flush — the crash the design must survive. */
  async kill9(name: ServiceName): Promise<void> {
    const r = this.running.get(name);
    if (!r) return;
    const exited = new Promise<void>((res) => (r.proc.exitCode !== null ? res() : r.proc.once('exit', () => res())));
    r.proc.kill('SIGKILL');
    await exited;
    this.running.delete(name);
  }

  async stop(name: ServiceName): Promise<number | null> {
    const r = this.running.get(name);
    if (!r) return null;
    const exited = new Promise<number | null>((res) =>
      r.proc.exitCode !== null ? res(r.proc.exitCode) : r.proc.once('exit', (code) => res(code)),
    );
    const t = setTimeout(() => r.proc.kill('SIGKILL'), 20_000);
    r.proc.kill('SIGTERM');
    const code = await exited;
    clearTimeout(t);
    await r.closed;
    this.running.delete(name);
    return code;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((n) => this.stop(n)));
  }
}

/** Everything an end-to-end test talks to: the five services as processes and both API stand-ins. */
export interface FullStack {
  stack: Stack;
  slack: import('@alertbus/stand-ins').SlackStandIn;
  opsgenie: import('@alertbus/stand-ins').OpsgenieStandIn;
  /** GET a JSON document from one of the services, failing on a non-2xx answer. */
  json<T>(service: ServiceName, path: string): Promise<T>;
  stop(): Promise<void>;
}

/** What the stand-ins know besides #alerts: more channels (DMs too), users by email, user groups, who is on call. */
export interface FullStackOptions {
  slackChannels?: import('@alertbus/stand-ins').SlackChannelConfig[];
  slackUsers?: import('@alertbus/stand-ins').SlackUserConfig[];
  slackUsergroups?: import('@alertbus/stand-ins').SlackUsergroupConfig[];
  /** Opsgenie schedule name → on-call usernames (emails). */
  onCall?: Record<string, string[]>;
  /** App-level tokens the Slack stand-in accepts for Socket Mode. */
  slackAppTokens?: string[];
}

export async function startFullStack(extraEnv: NodeJS.ProcessEnv = {}, opts: FullStackOptions = {}): Promise<FullStack> {
  const { startOpsgenieStandIn, startSlackStandIn } = await import('@alertbus/stand-ins');
  const slack = await startSlackStandIn({
    tokens: ['xoxb-e2e'],
    channels: [{ id: 'C0ALERTS', name: 'alerts' }, ...(opts.slackChannels ?? [])],
    users: opts.slackUsers ?? [],
    usergroups: opts.slackUsergroups ?? [],
    appTokens: opts.slackAppTokens ?? [],
  });
  const opsgenie = await startOpsgenieStandIn({ apiKeys: ['e2e-key'], onCall: opts.onCall ?? {} });
  const stack = new Stack({
    SLACK_BOT_TOKEN: 'xoxb-e2e',
    SLACK_API_URL: slack.url,
    OPSGENIE_API_KEY: 'e2e-key',
    OPSGENIE_API_URL: opsgenie.url,
    SLACK_DEFAULT_CHANNEL: '#alerts',
    ...extraEnv,
  });
  const names: ServiceName[] = ['history', 'router', 'slack-sink', 'opsgenie-sink', 'ingest'];
  await Promise.all(names.map((n) => stack.start(n)));
  return {
    stack,
    slack,
    opsgenie,
    async json<T>(service: ServiceName, path: string): Promise<T> {
      const res = await fetch(`${stack.url(service)}${path}`);
      if (!res.ok) throw new Error(`${service} ${path} → ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async stop() {
      await stack.stopAll();
      await slack.close();
      await opsgenie.close();
    },
  };
}

/** POSTs webhook bodies to ingest with a few requests in flight; any non-202 fails the test. */
export async function postAll(stack: Stack, path: string, bodies: string[], concurrency = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await fetch(`${stack.url('ingest')}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
