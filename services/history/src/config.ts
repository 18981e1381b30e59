/** history's settings from the environment, checked at boot so a bad value stops the process with its name. */
import { parseDuration } from '@alertbus/schemas';
import { isLoopback } from './auth/access';
import { readApiTokens, type ApiToken } from './auth/tokens';
import {
  envLogLevel,
  ConfigError,
  envBrokers,
  envDatabaseUrl,
  envInt,
  envString,
  infraRetryFromEnv,
  pgTimeoutsFromEnv,
  type InfraRetryPolicy,
  type PgTimeouts,
} from '@alertbus/common';

export const DEFAULT_HISTORY_PORT = 8081;
export const DEFAULT_HISTORY_HOST = '127.0.0.1';
export const DEFAULT_SILENCE_MAX_DURATION = '30d';
export const DEFAULT_SILENCE_MAX_DURATION_MS = parseDuration(DEFAULT_SILENCE_MAX_DURATION)!;
/** What the history may lag behind the log at low rates, so that records are projected a few at a time, not each alone. */
export const DEFAULT_FETCH_LINGER_MS = 250;

export interface HistoryConfig {
  brokers: string[];
  databaseUrl: string;
  /** 0 picks a free port. */
  port: number;
  host: string;
  logLevel: string;
  /** HISTORY_API_TOKENS (or _FILE): who may read and write, by role. */
  tokens: ApiToken[];
  /** SILENCE_MAX_DURATION. */
  silenceMaxDurationMs: number;
  /** HISTORY_KAFKA_TIMEOUT_MS: how long a silence's write waits for Kafka before the request is answered 503. */
  kafkaTimeoutMs?: number;
  /** PG_CONNECT_TIMEOUT_MS / PG_STATEMENT_TIMEOUT_MS. */
  pgTimeouts?: PgTimeouts;
  /** Back-off while Kafka or Postgres are unreachable (INFRA_RETRY_*). */
  infraRetry?: InfraRetryPolicy;
  /** HISTORY_FETCH_LINGER_MS: how long the projector's fetches may gather records at low rates. */
  fetchLingerMs?: number;
}

export function readHistoryConfig(env: Record<string, string | undefined> = process.env): HistoryConfig {
  const logLevel = envLogLevel(env);
  const databaseUrl = envDatabaseUrl(env);
  const maxDuration = envString(env, 'SILENCE_MAX_DURATION', DEFAULT_SILENCE_MAX_DURATION);
  const silenceMaxDurationMs = parseDuration(maxDuration);
  if (silenceMaxDurationMs === null || silenceMaxDurationMs === 0) {
    throw new ConfigError(`SILENCE_MAX_DURATION must be a duration like 30d, 12h or 1w, got "${maxDuration}"`);
  }
  const host = envString(env, 'HISTORY_HOST', DEFAULT_HISTORY_HOST);
  const tokens = readApiTokens(env);
  checkExposure(host, tokens);
  return {
    brokers: envBrokers(env),
    databaseUrl,
    port: envInt(env, 'HISTORY_PORT', DEFAULT_HISTORY_PORT, { min: 0, max: 65535 }),
    host,
    logLevel,
    tokens,
    silenceMaxDurationMs,
    kafkaTimeoutMs: envInt(env, 'HISTORY_KAFKA_TIMEOUT_MS', 10_000, { min: 100, max: 600_000 }),
    pgTimeouts: pgTimeoutsFromEnv(env),
    infraRetry: infraRetryFromEnv(env),
    fetchLingerMs: envInt(env, 'HISTORY_FETCH_LINGER_MS', DEFAULT_FETCH_LINGER_MS, { min: 0, max: 5_000 }),
  };
}

/**
 * Off loopback every read needs a token, so a history without tokens there could serve nobody: it refuses to
 * start rather than run open or useless.
 */
export function checkExposure(host: string, tokens: readonly ApiToken[]): void {
  if (!isLoopback(host) && tokens.length === 0) {
    throw new ConfigError(
      `HISTORY_HOST=${host} is not a loopback address, so every request to the API needs a token, and none is configured: ` +
        'set HISTORY_API_TOKENS=NAME:ROLE:TOKEN,... (or HISTORY_API_TOKENS_FILE), or listen on 127.0.0.1',
    );
  }
}
