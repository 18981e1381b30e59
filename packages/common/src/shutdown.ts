import type { Logger } from 'pino';
import { whenPropertiesIgnored } from '@alertbus/schemas';
import { ConfigError } from './config';
import { StartAborted } from './start-waits';

/** Runs the closers in order on SIGTERM/SIGINT, once, then exits; a second signal exits at once. */
export function onShutdown(log: Logger, closers: Array<() => Promise<unknown>>, timeoutMs = 20_000): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error('shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    for (const close of closers) {
      try {
        await close();
      } catch (err) {
        log.error({ err }, 'error during shutdown');
      }
    }
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/**
 * Starts a service with its stop already installed: a SIGTERM/SIGINT while it still waits at start for Kafka or
 * Postgres ends the wait (the `signal` it is given) and closes its port; after the start, the same stop closes the
 * service. Resolves with the started service, or undefined when a stop ended the start. Records read with properties
 * this version does not know (`readTolerantly`) are said once per kind on the service's log.
 */
export async function startStoppable<T extends { close(): Promise<unknown> }>(
  log: Logger,
  start: (signal: AbortSignal) => Promise<T>,
): Promise<T | undefined> {
  whenPropertiesIgnored((what, ignored) =>
    log.warn({ what, ignored }, 'read records with properties this version does not know, written by a newer alertbus: they are ignored'),
  );
  const stopping = new AbortController();
  const starting = start(stopping.signal);
  onShutdown(log, [async () => stopping.abort(), async () => (await starting.catch(() => undefined))?.close()]);
  try {
    return await starting;
  } catch (err) {
    if (err instanceof StartAborted) return undefined;
    throw err;
  }
}

/**
 * A service's start failure as its last line on stderr: a setting it cannot use (ConfigError, some read only as the
 * service starts) in one line naming it, as at config loading; anything else with its stack.
 */
export function startFailureText(service: string, err: unknown): string {
  if (err instanceof ConfigError) return `${service}: ${err.message}`;
  return `${service} failed to start: ${(err as Error)?.stack ?? String(err)}`;
}
