import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type FastifyChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>;

type Bindings = Parameters<FastifyChildLoggerFactory>[1];
type ChildLoggerOptions = Parameters<FastifyChildLoggerFactory>[2];

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

  private get log(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.log.level = level;
  }

  fatal(...args: unknown[]): void {
    (this.log.fatal as (...a: unknown[]) => void)(...args);
  }

  error(...args: unknown[]): void {
    (this.log.error as (...a: unknown[]) => void)(...args);
  }

  warn(...args: unknown[]): void {
    (this.log.warn as (...a: unknown[]) => void)(...args);
  }

  info(...args: unknown[]): void {
    (this.log.info as (...a: unknown[]) => void)(...args);
  }

  debug(...args: unknown[]): void {
    (this.log.debug as (...a: unknown[]) => void)(...args);
  }

  trace(...args: unknown[]): void {
    (this.log.trace as (...a: unknown[]) => void)(...args);
  }

  silent(...args: unknown[]): void {
    (this.log.silent as (...a: unknown[]) => void)(...args);
  }

  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.log.child(bindings, opts);
  }
}

/**
 * Fastify's childLoggerFactory: webhook requests get a logger made on first use; every other request (Slack,
 * OAuth, whose handlers hand their logger on) gets its child at once, as before.
 */
export const requestLoggerFactory: FastifyChildLoggerFactory = (logger, bindings, opts, raw) =>
  raw.url?.startsWith('/webhooks/') ? (new LazyRequestLogger(logger, bindings, opts) as unknown as FastifyBaseLogger) : logger.child(bindings, opts);
