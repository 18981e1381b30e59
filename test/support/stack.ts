import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serviceDef, startService, type ServiceName, type Supervisor } from '@alertbus/launcher';

export { freePort, type ServiceName } from '@alertbus/launcher';

const root = resolve(__dirname, '..', '..');

/** Where a stack started with `env` appends its services' output (one file per service, `<name>.log`). */
export function stackLogDir(env: NodeJS.ProcessEnv = {}): string {
  const tag = (env.KAFKA_TOPIC_PREFIX ?? process.env.KAFKA_TOPIC_PREFIX ?? 'stack').replace(/\.$/, '');
  return join(root, 'test-artifacts', 'logs', tag);
}

/** Lines of output kept per service for `output()`. */
const KEEP_LINES = 400;

interface Running {
  supervisor: Supervisor;
  output: string[];
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
 * The services as real child processes (as `npm start` runs them, from the launcher's service table), with
 * the environment of this test file (its topic prefix and database), so a test can SIGKILL one and start it
 * again. Each service runs under a Supervisor of its own, and keeps its port across restarts.
 */
export class Stack {
  private readonly running = new Map<ServiceName, Running>();
  private readonly ports = new Map<ServiceName, number>();
  private readonly lastOutput = new Map<ServiceName, string[]>();
  private readonly exits: string[] = [];

  readonly logDir: string;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly opts: StackOptions = {},
  ) {
    this.logDir = opts.logDir ?? stackLogDir(env);
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

  /** What the service's latest start wrote (its last lines). */
  output(name: ServiceName): string {
    const lines = this.running.get(name)?.output ?? this.lastOutput.get(name) ?? [];
    return lines.map((l) => `${l}\n`).join('');
  }

  /** Starts a service and waits until it is ready (within `readyTimeoutMs`, default STACK_READY_TIMEOUT_MS or 240 s). */
  async start(name: ServiceName, extraEnv: NodeJS.ProcessEnv = {}, opts: { readyTimeoutMs?: number } = {}): Promise<void> {
    const output: string[] = [];
    this.lastOutput.set(name, output);
    mkdirSync(this.logDir, { recursive: true });
    const { supervisor, port } = await startService(serviceDef(name), {
      root,
      env: { ...process.env, ...this.env, ...extraEnv, LOG_LEVEL: this.opts.logLevel ?? process.env.STACK_LOG_LEVEL ?? 'warn' },
      // A port given in the environment is kept (a test that must know ingest's URL before it starts).
      port: this.ports.get(name) ?? (Number(extraEnv[serviceDef(name).portVar] ?? this.env[serviceDef(name).portVar]) || undefined),
      supervisor: {
        // Five services compiling their TypeScript at once on a loaded 2-core machine can take minutes: a generous
        // wait for a condition, not a bound on how fast a machine must be (STACK_READY_TIMEOUT_MS to change it).
        readyTimeoutMs: opts.readyTimeoutMs ?? Number(process.env.STACK_READY_TIMEOUT_MS ?? 240_000),
        stopGraceMs: 20_000,
        output: (_name, line) => {
          output.push(line);
          if (output.length > KEEP_LINES) output.splice(0, output.length - KEEP_LINES);
          appendFileSync(this.logFile(name), `${line}\n`);
          if (process.env.STACK_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
        },
      },
    });
    this.ports.set(name, port);
    this.running.set(name, { supervisor, output });
    supervisor.onFailure((err) => this.exits.push(err.message));
  }

  /** Services that exited while nothing asked them to stop, each with how and its last lines. */
  unexpectedExits(): string[] {
    return [...this.exits];
  }

  /** SIGKILL: no shutdown hooks, no flush — the crash the design must survive. */
  async kill9(name: ServiceName): Promise<void> {
    const r = this.running.get(name);
    if (!r) return;
    await r.supervisor.stop({ signal: 'SIGKILL' });
    this.running.delete(name);
  }

  /** SIGTERM (SIGKILL after 20 s); resolves with the exit code once its last lines are in the log. */
  async stop(name: ServiceName): Promise<number | null> {
    const r = this.running.get(name);
    if (!r) return null;
    await r.supervisor.stop();
    await r.supervisor.drained();
    this.running.delete(name);
    return r.supervisor.exitCode(name);
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
  const started = await Promise.allSettled(names.map((n) => stack.start(n)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // The ones that did start must not outlive the test (they would keep Jest from ending).
    await stack.stopAll();
    await slack.close();
    await opsgenie.close();
    throw failed.reason;
  }
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

/**
 * A rules file with the built-in defaults (everything to #alerts and the pager) minus their storm control: for
 * the suites that count every incident's own root post and page under a steady stream of new incidents, which the
 * default would gather into one storm summary per channel.
 */
export function rulesWithoutStormControl(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'alertbus-rules-')), 'rules.yaml');
  // A file of one's own has storm control too unless it says otherwise.
  writeFileSync(file, 'defaults:\n  slack: { channel: "#alerts" }\n  pager: { enabled: true }\nrules: []\nstorm_control: { enabled: false }\n');
  return file;
}
