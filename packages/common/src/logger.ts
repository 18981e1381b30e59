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

/** A service's logger; a level pino does not know is a ConfigError naming LOG_LEVEL. */
export function createLogger(service: string, level = process.env.LOG_LEVEL || 'info', instance = process.env.ALERTBUS_INSTANCE_ID): Logger {
  return pino({
    name: service,
    level: checkLogLevel(level.trim()),
    // `instance`: which of several instances of the service wrote the line (ALERTBUS_INSTANCE_ID).
    base: instance ? { service, instance } : { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** Removes anything that looks like a credential from a message meant for a log or an error. */
export function scrubSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = scrubTokenShapes(text);
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}
