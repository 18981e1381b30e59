/** history's settings from the environment, checked at boot so a bad value stops the process with its name. */
import {
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

export interface HistoryConfig {
  brokers: string[];
  databaseUrl: string;
  /** 0 picks a free port. */
  port: number;
  host: string;
  logLevel: string;
  /** PG_CONNECT_TIMEOUT_MS / PG_STATEMENT_TIMEOUT_MS. */
  pgTimeouts?: PgTimeouts;
  /** Back-off while Kafka or Postgres are unreachable (INFRA_RETRY_*). */
  infraRetry?: InfraRetryPolicy;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function readHistoryConfig(env: Record<string, string | undefined> = process.env): HistoryConfig {
  const logLevel = envString(env, 'LOG_LEVEL', 'info');
  if (!LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const databaseUrl = envDatabaseUrl(env);
  let protocol = '';
  try {
    protocol = new URL(databaseUrl).protocol;
  } catch {
    /* reported below */
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL must be a postgres:// URL');
  }
  return {
    brokers: envBrokers(env),
    databaseUrl,
    port: envInt(env, 'HISTORY_PORT', DEFAULT_HISTORY_PORT, { min: 0, max: 65535 }),
    host: envString(env, 'HISTORY_HOST', '127.0.0.1'),
    logLevel,
    pgTimeouts: pgTimeoutsFromEnv(env),
    infraRetry: infraRetryFromEnv(env),
  };
}
