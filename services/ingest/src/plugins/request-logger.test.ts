import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { requestLoggerFactory } from './request-logger';

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
