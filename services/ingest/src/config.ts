import { ConfigError, envBrokers, envBytes, envInt, envOptional, envString } from '@alertbus/common';

/** Everything ingest reads from the environment, validated once at boot. */
export interface IngestConfig {
  port: number;
  host: string;
  /** When set, every webhook must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  kafkaBrokers: string[];
  /** How long a request waits for Kafka to acknowledge its records before answering 503. */
  kafkaTimeoutMs: number;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): IngestConfig {
  const bodyLimit = envBytes(env, 'INGEST_BODY_LIMIT', DEFAULT_BODY_LIMIT);
  if (bodyLimit < 1) throw new ConfigError(`INGEST_BODY_LIMIT must be at least 1 byte, got "${env.INGEST_BODY_LIMIT}"`);
  return {
    port: envInt(env, 'INGEST_PORT', 8080, { min: 0, max: 65535 }),
    host: envString(env, 'INGEST_HOST', '0.0.0.0'),
    token: envOptional(env, 'INGEST_TOKEN'),
    bodyLimit,
    kafkaBrokers: envBrokers(env),
    kafkaTimeoutMs: envInt(env, 'INGEST_KAFKA_TIMEOUT_MS', 10_000, { min: 1 }),
  };
}
