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

/**
 * The logger Fastify is given: the service's, with the request serialized by `requestWithoutQuery`. Made once per
 * app; Fastify merges a logger instance's own serializers over its defaults, and every request's child inherits them.
 */
export function accessLogger(log: FastifyBaseLogger): FastifyBaseLogger {
  return log.child({}, { serializers: { req: requestWithoutQuery } });
}

/**
 * The request as its access log line shows it, as Fastify's own serializer does but without the query string: an
 * OAuth redirect carries its `code` there, and a sender may put a token in a webhook URL.
 */
export function requestWithoutQuery(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }): Record<string, unknown> {
  const url = req.url ?? '';
  const at = url.indexOf('?');
  return {
    method: req.method,
    url: at < 0 ? url : `${url.slice(0, at)}?…`,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
