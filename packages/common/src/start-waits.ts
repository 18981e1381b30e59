import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { scrubSecrets } from './logger';
import { PID_HEADER } from './ops-server';

/** The servers a service may wait for at start, as untilReachable names them. */
export type StartDependency = 'Kafka' | 'Postgres';

const DEPENDENCIES: readonly StartDependency[] = ['Kafka', 'Postgres'];

/** An error's text shown on /readyz is bounded: a server's message is data, not something to trust for length. */
const MAX_REASON_CHARS = 300;

/** Thrown by untilReachable when the service is told to stop while it waits: nothing failed, it was stopped. */
export class StartAborted extends Error {
  constructor(what: string) {
    super(`stopped while waiting for ${what} at start`);
    this.name = 'StartAborted';
  }
}

/** A connection string's password, wherever a driver's message repeats one. */
function withoutPasswords(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, '$1[redacted]@');
}

/**
 * What a service is waiting for before it can start, for its ops routes: served from the start, so a service that
 * waits for Kafka or Postgres is alive (/healthz), not ready (/readyz names what it waits for and its last error),
 * and says so in `alertbus_start_waiting{dependency}`. Stopping while it waits ends the wait at once.
 */
export class StartWaits {
  private current: { what: StartDependency; reason?: string } | null = null;
  private started = false;
  private readonly gauge: Gauge<'dependency'>;
  private readonly stop = new AbortController();

  constructor(
    registry: Registry,
    /** The service's own stop (SIGTERM while it waits); stop() does the same. */
    signal?: AbortSignal,
  ) {
    this.gauge = new Gauge({
      name: 'alertbus_start_waiting',
      help: '1 while the service waits at start for this dependency (Kafka, Postgres) to be reachable; 0 once it got through.',
      labelNames: ['dependency'],
      registers: [registry],
    });
    for (const d of DEPENDENCIES) this.gauge.set({ dependency: d.toLowerCase() }, 0);
    if (signal?.aborted) this.stop.abort();
    else signal?.addEventListener('abort', () => this.stop.abort(), { once: true });
  }

  /** A start-up step that needs `what` is under way (again); `error`: why its last attempt did not get through. */
  waiting(what: StartDependency, error?: string): void {
    this.current = { what, ...(error ? { reason: bounded(withoutPasswords(scrubSecrets(error))) } : {}) };
    this.gauge.set({ dependency: what.toLowerCase() }, 1);
  }

  /** The step that needed `what` got through. */
  reached(what: StartDependency): void {
    if (this.current?.what === what) this.current = null;
    this.gauge.set({ dependency: what.toLowerCase() }, 0);
  }

  /** Start-up is over: from now on the service's own readiness checks answer /readyz. */
  done(): void {
    this.started = true;
    this.current = null;
    for (const d of DEPENDENCIES) this.gauge.set({ dependency: d.toLowerCase() }, 0);
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** Aborted when the service is told to stop: a wait in progress ends with StartAborted. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  abort(): void {
    this.stop.abort();
  }

  /** Why the service is not ready because it is still starting, or null once it started. */
  problem(): string | null {
    if (this.started) return null;
    if (!this.current) return 'starting';
    return `starting: waiting for ${this.current.what}${this.current.reason ? ` (${this.current.reason})` : ''}`;
  }

  /** A readiness check that says why the service is still starting, and once it started asks `check`. */
  readiness(check: () => Promise<string | null> | string | null): () => Promise<string | null> | string | null {
    return () => this.problem() ?? check();
  }
}

function bounded(text: string): string {
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}…` : text;
}

/** How long a sender refused while the service starts is asked to wait before it tries again. */
export const STARTING_RETRY_AFTER_S = 5;

/**
 * For a service whose ops routes share its port with its own routes (ingest's webhooks, history's API), whose
 * readiness checks assume a started service: while it starts, /healthz and /metrics answer as ever, /readyz 503 with
 * why, and every other route 503 `{ error: 'starting', message }` with a Retry-After (Alertmanager, Grafana and the
 * CLI send again) instead of taking what it cannot handle yet. A preHandler, so a route's own checks
 * (authentication, body limit, schema) answer first, as they do when Kafka goes away later.
 */
export function refuseWhileStarting(app: FastifyInstance, waits: StartWaits): void {
  app.addHook('preHandler', async (req, reply) => {
    const problem = waits.problem();
    if (problem === null) return;
    const path = req.routeOptions.url;
    if (path === undefined || path === '/healthz' || path === '/metrics') return;
    if (path === '/readyz') {
      reply.header(PID_HEADER, String(process.pid));
      return reply.code(503).send({ status: 'not ready', reason: problem });
    }
    return reply
      .code(503)
      .header('retry-after', String(STARTING_RETRY_AFTER_S))
      .send({ error: 'starting', message: `${problem}; nothing was written, try again` });
  });
}
