/**
 * LOG_LEVEL: a level pino does not know (`warning`, a common spelling) stops every service at boot with a message
 * naming the variable and the levels it takes; pino's own error ("default level:warning must be included in custom
 * levels", with a stack) named neither.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, envLogLevel } from './config';
import { createLogger } from './logger';

jest.setTimeout(120_000);

const LEVELS = 'fatal, error, warn, info, debug, trace, silent';

test('createLogger and envLogLevel refuse a level pino does not know, naming LOG_LEVEL', () => {
  expect(() => createLogger('x', 'warning')).toThrow(new ConfigError(`LOG_LEVEL must be one of ${LEVELS}, got "warning"`));
  expect(() => envLogLevel({ LOG_LEVEL: 'verbose' })).toThrow(ConfigError);
  expect(envLogLevel({})).toBe('info');
  expect(envLogLevel({ LOG_LEVEL: ' debug ' })).toBe('debug');
  expect(createLogger('x', 'warn').level).toBe('warn');
});

const ROOT = join(__dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function run(service: string): Promise<{ code: number | null; stderr: string }> {
  // Nothing reachable: a service that got past its configuration would fail on Kafka or Postgres instead.
  const env = { PATH: process.env.PATH, LOG_LEVEL: 'warning', KAFKA_BROKERS: '127.0.0.1:1', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' };
  const child = spawn(TSX, [join(ROOT, 'services', service, 'src/main.ts')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

test.each(['ingest', 'router', 'slack-sink', 'opsgenie-sink', 'history'])('%s with LOG_LEVEL=warning exits 1 naming LOG_LEVEL, without a stack trace', async (service) => {
  const { code, stderr } = await run(service);
  expect(code).toBe(1);
  expect(stderr).toContain(`LOG_LEVEL must be one of ${LEVELS}, got "warning"`);
  expect(stderr).not.toMatch(/\n\s+at /);
});
