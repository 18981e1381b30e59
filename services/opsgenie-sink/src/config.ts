import {
  envLogLevel,
  ConfigError,
  envBrokers,
  envDatabaseUrl,
  envInt,
  envSecret,
  envString,
  envUrl,
  deliveryRetryFromEnv,
  infraRetryFromEnv,
  pgTimeoutsFromEnv,
  quotableUrl,
  type DeliveryRetryPolicy,
  type InfraRetryPolicy,
  type PgTimeouts,
} from '@alertbus/common';
import { DEFAULT_CLOSE_WAIT_MAX_MS, DEFAULT_CREATE_SETTLE_MS } from './notifier';
import type { PagerProvider } from './pager-client';

export const DEFAULT_OPSGENIE_API_URL = 'https://api.opsgenie.com';
/** JSM Operations' API: the default base URL with PAGER_PROVIDER=jsm. */
export const DEFAULT_JSM_API_URL = 'https://api.atlassian.com';
const DEFAULT_API_URL: Record<PagerProvider, string> = { opsgenie: DEFAULT_OPSGENIE_API_URL, jsm: DEFAULT_JSM_API_URL };

/** The hosts of Opsgenie's API (US, EU) and of JSM Operations' (whose integration API the JSM client adds a path to). */
const OPSGENIE_HOSTS = new Set(['api.opsgenie.com', 'api.eu.opsgenie.com']);
const JSM_HOST = 'api.atlassian.com';

/** What OPSGENIE_API_URL should look like for each provider, for the messages below. */
const EXPECTED_API_URL: Record<PagerProvider, string> = {
  opsgenie: 'https://api.opsgenie.com (EU accounts: https://api.eu.opsgenie.com)',
  jsm: `https://${JSM_HOST} (the sink adds /jsm/ops/integration/v2/…)`,
};

/**
 * OPSGENIE_API_URL checked against PAGER_PROVIDER: the clients append `/v2/…` (JSM: `/jsm/ops/integration/v2/…`), so a
 * URL copied with that path, or one provider's host given to the other, made every call a 404 and every page a dead
 * letter. A proxy's or a stand-in's URL (any other host, any other path prefix) is taken as it is.
 */
export function checkPagerApiUrl(apiUrl: string, provider: PagerProvider, given: boolean): string {
  const url = new URL(apiUrl);
  const path = url.pathname.replace(/\/+$/, '');
  const shown = given ? `"${quotableUrl(apiUrl)}"` : `unset (default ${DEFAULT_API_URL[provider]})`;
  const expected = `expected the API's base URL, ${EXPECTED_API_URL[provider]}`;
  if (/(^|\/)v\d+(\/|$)/i.test(path) || /(^|\/)jsm\/ops(\/|$)/i.test(path)) {
    throw new ConfigError(`OPSGENIE_API_URL has a path the ${provider} client appends itself (${path}): ${shown}; ${expected}`);
  }
  const host = url.hostname.toLowerCase();
  if (provider === 'jsm' && OPSGENIE_HOSTS.has(host)) {
    throw new ConfigError(`OPSGENIE_API_URL is Opsgenie's host while PAGER_PROVIDER=jsm: ${shown}; ${expected}`);
  }
  if (provider === 'opsgenie' && host === JSM_HOST) {
    throw new ConfigError(`OPSGENIE_API_URL is JSM Operations' host while PAGER_PROVIDER=opsgenie: ${shown}; set PAGER_PROVIDER=jsm, or ${expected}`);
  }
  return apiUrl;
}

export interface OpsgenieSinkConfig {
  /** Unset → dry-run: commands are recorded with the request they would have sent, nothing is called. */
  apiKey?: string;
  /** Opsgenie host (EU accounts: https://api.eu.opsgenie.com); for JSM the integration path is appended. */
  apiUrl: string;
  provider: PagerProvider;
  /** Ops server port (/healthz, /readyz, /metrics); 0 = any free port. */
  port: number;
  host?: string;
  kafkaBrokers: string[];
  databaseUrl: string;
  logLevel?: string;
  /** Retries of a delivery: DELIVERY_RETRY_BUDGET and its backoff bounds (tests use small ones). */
  retryPolicy?: DeliveryRetryPolicy;
  /** Back-off while Kafka or Postgres are unreachable (INFRA_RETRY_*). */
  infraRetry?: InfraRetryPolicy;
  /** PG_CONNECT_TIMEOUT_MS / PG_STATEMENT_TIMEOUT_MS. */
  pgTimeouts?: PgTimeouts;
  /** Request-status polls after a 202 and the first wait between them. */
  statusPolls?: number;
  statusPollDelayMs?: number;
  /** Timeout of one HTTP request to the pager API. */
  requestTimeoutMs?: number;
  /** OPSGENIE_CREATE_SETTLE_MS: how long a create or a note whose answer was lost may still be pending at the pager (see PagerNotifier). */
  createSettleMs?: number;
  /** OPSGENIE_CLOSE_WAIT_MAX_MS: how long a create may wait for the close before it while the pager has not processed it and its alert is still open. */
  closeWaitMaxMs?: number;
  /** While a create or a note may be pending, or a create waits for the close before it, how often to look again (default 1 s; tests use less). */
  settleLookupIntervalMs?: number;
}

type Env = Record<string, string | undefined>;

/** Reads and validates the environment; a bad value throws ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): OpsgenieSinkConfig {
  const provider = envString(env, 'PAGER_PROVIDER', 'opsgenie');
  if (provider !== 'opsgenie' && provider !== 'jsm') {
    throw new ConfigError(`PAGER_PROVIDER must be "opsgenie" or "jsm", got "${provider}"`);
  }
  const apiUrl = envUrl(env, 'OPSGENIE_API_URL', DEFAULT_API_URL[provider]).replace(/\/+$/, '');
  return {
    apiKey: envSecret(env, 'OPSGENIE_API_KEY'),
    apiUrl: checkPagerApiUrl(apiUrl, provider, Boolean(env.OPSGENIE_API_URL)),
    provider,
    port: envInt(env, 'OPSGENIE_SINK_PORT', 8084, { min: 0, max: 65535 }),
    host: envString(env, 'OPSGENIE_SINK_HOST', '127.0.0.1'),
    kafkaBrokers: envBrokers(env),
    databaseUrl: envDatabaseUrl(env),
    logLevel: envLogLevel(env),
    requestTimeoutMs: envInt(env, 'OPSGENIE_TIMEOUT_MS', 10_000, { min: 100 }),
    createSettleMs: envInt(env, 'OPSGENIE_CREATE_SETTLE_MS', DEFAULT_CREATE_SETTLE_MS, { min: 0 }),
    closeWaitMaxMs: envInt(env, 'OPSGENIE_CLOSE_WAIT_MAX_MS', DEFAULT_CLOSE_WAIT_MAX_MS, { min: 0 }),
    retryPolicy: deliveryRetryFromEnv(env),
    infraRetry: infraRetryFromEnv(env),
    pgTimeouts: pgTimeoutsFromEnv(env),
  };
}
