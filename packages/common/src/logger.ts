import pino, { type Logger } from 'pino';
import { checkLogLevel } from './config';
import { scrubTokenShapes } from './credentials';

export type { Logger };

/** Paths pino blanks out wherever they appear, so tokens and keys never reach a log line. */
export const REDACT_PATHS = [
  'token',
  'apiKey',
  'api_key',
  'authorization',
  'password',
  'secret',
  'signingSecret',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.authorization',
  '*.Authorization',
  '*.password',
  '*.secret',
  '*.signingSecret',
  'headers.authorization',
  'headers["x-slack-signature"]',
  'req.headers.authorization',
  'config.headers.Authorization',
];

/**
 * A service's logger; a level pino does not know is a ConfigError naming LOG_LEVEL. On stdout, or on `to` (a CLI
 * command whose stdout is its result logs on stderr: `pino.destination(2)`).
 */
export function createLogger(
  service: string,
  level = process.env.LOG_LEVEL || 'info',
  instance = process.env.ALERTBUS_INSTANCE_ID,
  to?: pino.DestinationStream,
): Logger {
  const options = {
    name: service,
    level: checkLogLevel(level.trim()),
    // `instance`: which of several instances of the service wrote the line (ALERTBUS_INSTANCE_ID).
    base: instance ? { service, instance } : { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return to ? pino(options, to) : pino(options);
}

/** A logger on stderr, for a command whose stdout is its result (JSON a script reads). */
export function createStderrLogger(service: string, level: string): Logger {
  return createLogger(service, level, undefined, pino.destination({ fd: 2, sync: true }));
}

/** Removes anything that looks like a credential from a message meant for a log or an error. */
export function scrubSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = scrubTokenShapes(text);
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}
