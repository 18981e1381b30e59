import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import { accessLogger, requestLoggerFactory } from './request-logger';

/** A parent logger that records the children made and the lines they log. */
function parent() {
  const made: Array<Record<string, unknown>> = [];
  const lines: Array<{ bindings: Record<string, unknown>; level: string; args: unknown[] }> = [];
  const logger = {
    level: 'info',
    child(bindings: Record<string, unknown>) {
      made.push(bindings);
      const at = (level: string) => (...args: unknown[]) => lines.push({ bindings, level, args });
      return { level: 'info', child: () => logger, fatal: at('fatal'), error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: at('trace'), silent: at('silent') };
    },
  } as unknown as FastifyBaseLogger;
  return { logger, made, lines };
}

const make = (url: string, p: ReturnType<typeof parent>) =>
  requestLoggerFactory.call({} as FastifyInstance, p.logger, { reqId: 'req-7' }, {}, { url } as IncomingMessage);

it('makes a webhook request its child logger only when it logs, with the request id', () => {
  const p = parent();
  const log = make('/webhooks/alertmanager', p);
  expect(p.made).toEqual([]);
  expect(log.level).toBe('info');
  log.info({ kind: 'invalid_payload' }, 'request rejected');
  log.warn('again');
  expect(p.made).toEqual([{ reqId: 'req-7' }]);
  expect(p.lines).toEqual([
    { bindings: { reqId: 'req-7' }, level: 'info', args: [{ kind: 'invalid_payload' }, 'request rejected'] },
    { bindings: { reqId: 'req-7' }, level: 'warn', args: ['again'] },
  ]);
});

it('gives every other request its child at once', () => {
  const p = parent();
  make('/slack/events', p);
  expect(p.made).toEqual([{ reqId: 'req-7' }]);
});

it("logs a request's path without its query string: an OAuth redirect's code never reaches the access log", async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const app = Fastify({
    loggerInstance: accessLogger(logger as FastifyBaseLogger),
    logController: new LogController({ disableRequestLogging: (req) => req.url.startsWith('/webhooks/') }),
    childLoggerFactory: requestLoggerFactory,
  });
  app.get('/slack/oauth_redirect', async () => 'ok');
  await app.inject({ url: '/slack/oauth_redirect?code=SECRET-CODE-1&state=st-2' });
  await app.close();
  const incoming = lines.map((l) => JSON.parse(l) as { msg: string; req?: { url: string; method: string } }).find((l) => l.msg === 'incoming request');
  expect(incoming?.req).toMatchObject({ method: 'GET', url: '/slack/oauth_redirect?…' });
  expect(lines.join('\n')).not.toMatch(/SECRET-CODE-1|st-2/);
});
