import {
  ConfigError,
  envBrokers,
  envDatabaseUrl,
  envInt,
  envOptional,
  envString,
  envUrl,
  type Logger,
  type RetryPolicy,
} from '@alertbus/common';

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';
export const DEFAULT_SLACK_SINK_PORT = 8083;

export interface SlackSinkConfig {
  /** Bot token (xoxb-…); without it the sink runs dry and only records what it would have sent. */
  token?: string;
  /** Web API base URL, ending in `/`. */
  apiUrl: string;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  port: number;
  host: string;
  brokers: string[];
  databaseUrl: string;
  /** Per-request timeout towards Slack; a hung call becomes a retryable failure. */
  requestTimeoutMs: number;
  logLevel?: string;
  /** Overrides the shared retry policy (tests use small timeouts). */
  retryPolicy?: RetryPolicy;
  /** A logger to use instead of creating one (tests, the orchestrator). */
  log?: Logger;
}

/** Reads and validates the sink's environment; a bad value throws ConfigError naming the variable. */
export function loadSlackSinkConfig(env: Record<string, string | undefined> = process.env): SlackSinkConfig {
  const token = envOptional(env, 'SLACK_BOT_TOKEN');
  if (token !== undefined && /\s/.test(token)) throw new ConfigError('SLACK_BOT_TOKEN must not contain whitespace');
  const apiUrl = envUrl(env, 'SLACK_API_URL', DEFAULT_SLACK_API_URL);
  return {
    token,
    apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    port: envInt(env, 'SLACK_SINK_PORT', DEFAULT_SLACK_SINK_PORT, { min: 0, max: 65535 }),
    host: envString(env, 'SLACK_SINK_HOST', '127.0.0.1'),
    brokers: envBrokers(env),
    databaseUrl: envDatabaseUrl(env),
    requestTimeoutMs: envInt(env, 'SLACK_TIMEOUT_MS', 10_000, { min: 100, max: 300_000 }),
    logLevel: envOptional(env, 'LOG_LEVEL'),
  };
}
