import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type FastifyChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>;

type Bindings = Parameters<FastifyChildLoggerFactory>[1];
type ChildLoggerOptions = Parameters<FastifyChildLoggerFactory>[2];

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The request's logger made only when something logs through it. Fastify makes a pino child (its bindings
 * serialised, its redaction set up) for every request; a webhook request logs nothing unless it is refused, and
 * at thousands a second those children were about 2 % of ingest's CPU.
 */
class LazyRequestLogger {
  private made?: FastifyBaseLogger;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {}

  /** The real child, made on first use. */
  get log(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.log.level = level;
  }

  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.log.child(bindings, opts);
  }
}

// Each level method hands its arguments to the real child.
for (const level of LEVELS) {
  Object.defineProperty(LazyRequestLogger.prototype, level, {
    value(this: LazyRequestLogger, ...args: unknown[]) {
      (this.log[level] as (...a: unknown[]) => void)(...args);
    },
  });
}

/**
 * Fastify's childLoggerFactory: webhook requests get a logger made on first use; every other request (Slack,
 * OAuth, whose handlers hand their logger on) gets its child at once, as before.
 */
export const requestLoggerFactory: FastifyChildLoggerFactory = (logger, bindings, opts, raw) =>
  raw.url?.startsWith('/webhooks/') ? (new LazyRequestLogger(logger, bindings, opts) as unknown as FastifyBaseLogger) : logger.child(bindings, opts);
