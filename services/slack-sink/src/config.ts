import { DEFAULT_HISTORY_URL, historyUrl } from '@alertbus/history-client';
import {
  envLogLevel,
  ConfigError,
  DEFAULT_SLACK_API_URL,
  envBrokers,
  envDatabaseUrl,
  envInt,
  envOptional,
  envSecret,
  envString,
  envUrl,
  deliveryRetryFromEnv,
  infraRetryFromEnv,
  pgTimeoutsFromEnv,
  quotableUrl,
  type DeliveryRetryPolicy,
  type InfraRetryPolicy,
  type Logger,
  type PgTimeouts,
  type RetryPolicy,
} from '@alertbus/common';
import { parseTokenKey, TokenKeyError } from '@alertbus/slack-installs';
import { DEFAULT_SLACK_POST_SETTLE_MS } from './reconcile';
import { DEFAULT_SLACK_UPDATE_HOLD_MS } from './update-hold';

export const DEFAULT_SLACK_SINK_PORT = 8083;
export const DEFAULT_OPSGENIE_API_URL = 'https://api.opsgenie.com';
export const DEFAULT_ONCALL_CACHE_TTL_SECONDS = 300;
export const DEFAULT_ONCALL_USERGROUP_INTERVAL_MINUTES = 5;

/** The optional job that keeps a Slack user group equal to a schedule's on-call people. */
export interface OnCallUserGroupConfig {
  usergroup: string;
  schedule: string;
  intervalMinutes: number;
}

export interface SlackSinkConfig {
  /** Bot token (xoxb-…), which speaks for every command without a team; without it (and so without OAuth installs) the sink runs dry and only records what it would have sent. */
  token?: string;
  /** SLACK_TOKEN_KEY: set when workspaces are installed through OAuth; their tokens are read (decrypted) from Postgres. Needs `token`. */
  tokenKey?: Buffer;
  /** Web API base URL, ending in `/`. */
  apiUrl: string;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one. */
  port: number;
  host: string;
  brokers: string[];
  databaseUrl: string;
  /** Per-request timeout towards Slack; a hung call becomes a retryable failure. */
  requestTimeoutMs: number;
  /** SLACK_POST_SETTLE_MS: how long past requestTimeoutMs a post that got no answer may still be made by Slack (see postSettleWindow). */
  postSettleMs?: number;
  logLevel?: string;
  /** Retries of a delivery: DELIVERY_RETRY_BUDGET and its backoff bounds (tests use small ones). */
  retryPolicy?: DeliveryRetryPolicy;
  /** Back-off while Kafka or Postgres are unreachable (INFRA_RETRY_*). */
  infraRetry?: InfraRetryPolicy;
  /** PG_CONNECT_TIMEOUT_MS / PG_STATEMENT_TIMEOUT_MS. */
  pgTimeouts?: PgTimeouts;
  /** Brief retries of the look-ups made while reconciling after a crash (not knowing means posting). */
  lookupRetry?: RetryPolicy;
  /** Attempts of an on-call lookup before the thread is told it failed, instead of waiting for Opsgenie. */
  onCallLookupAttempts?: number;
  /** A logger to use instead of creating one (tests, the orchestrator). */
  log?: Logger;
  /** Opsgenie key for who-is-on-call (needs read access to the schedules); unset → on-call lookups fail politely. */
  opsgenieApiKey?: string;
  /** Opsgenie host (EU: https://api.eu.opsgenie.com), no trailing slash. */
  opsgenieApiUrl?: string;
  /** Why on-call lookups are off although a pager key is set (the pager is JSM), for the start log. */
  onCallNotice?: string;
  /** How long an on-call lookup is reused; 0 = always ask. */
  onCallCacheTtlSeconds?: number;
  /** Set (ONCALL_USERGROUP_ID + ONCALL_SCHEDULE) to run the on-call user group job. */
  onCallUserGroup?: OnCallUserGroupConfig;
  /** COMMAND_WEBHOOK_SECRET: the HMAC key of the requests to the rules file's `commands:` webhooks. */
  commandWebhookSecret?: string;
  /** HISTORY_URL: the history API, which `/alertbus incidents` and `/alertbus silences` are answered from. */
  historyUrl?: string;
  /** SLACK_UPDATE_HOLD_MS: an update of a message updated less than this ago waits, and only its latest content goes out (0: no wait). */
  updateHoldMs?: number;
  /** How long after a slash command its answer is still tried (Slack's 30 minutes of a response_url; tests shorten it). */
  responseUrlLifetimeMs?: number;
  /** HISTORY_TOKEN (else ALERTBUS_TOKEN): a viewer token of HISTORY_API_TOKENS, when the API asks for one. */
  historyToken?: string;
}

/** Reads and validates the sink's environment; a bad value throws ConfigError naming the variable. */
export function loadSlackSinkConfig(env: Record<string, string | undefined> = process.env): SlackSinkConfig {
  const token = envSecret(env, 'SLACK_BOT_TOKEN');
  if (token !== undefined && /\s/.test(token)) throw new ConfigError('SLACK_BOT_TOKEN must not contain whitespace');
  const apiUrl = envUrl(env, 'SLACK_API_URL', DEFAULT_SLACK_API_URL);
  const rawKey = envSecret(env, 'SLACK_TOKEN_KEY');
  let tokenKey: Buffer | undefined;
  try {
    tokenKey = rawKey === undefined ? undefined : parseTokenKey(rawKey);
  } catch (err) {
    if (err instanceof TokenKeyError) throw new ConfigError(err.message);
    throw err;
  }
  // Alerts and notifications carry no team, so only SLACK_BOT_TOKEN can post them: without it each would be dead-lettered.
  if (tokenKey && token === undefined) {
    throw new ConfigError(
      'SLACK_TOKEN_KEY (OAuth installs) is set but SLACK_BOT_TOKEN is not: alerts and notifications come from no workspace, ' +
        'so they are posted with SLACK_BOT_TOKEN, in its workspace; set it to the bot token of the workspace your alert channels are in',
    );
  }
  return {
    token,
    ...(tokenKey ? { tokenKey } : {}),
    apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    port: envInt(env, 'SLACK_SINK_PORT', DEFAULT_SLACK_SINK_PORT, { min: 0, max: 65535 }),
    host: envString(env, 'SLACK_SINK_HOST', '127.0.0.1'),
    brokers: envBrokers(env),
    databaseUrl: envDatabaseUrl(env),
    requestTimeoutMs: envInt(env, 'SLACK_TIMEOUT_MS', 10_000, { min: 100, max: 300_000 }),
    postSettleMs: envInt(env, 'SLACK_POST_SETTLE_MS', DEFAULT_SLACK_POST_SETTLE_MS, { min: 0, max: 300_000 }),
    logLevel: envLogLevel(env),
    // An HMAC key, any text: kept as written (keys and tokens below drop the whitespace around them).
    commandWebhookSecret: envOptional(env, 'COMMAND_WEBHOOK_SECRET'),
    ...onCallOpsgenie(env),
    onCallCacheTtlSeconds: envInt(env, 'ONCALL_CACHE_TTL_SECONDS', DEFAULT_ONCALL_CACHE_TTL_SECONDS, { min: 0, max: 86_400 }),
    onCallUserGroup: loadUserGroupConfig(env),
    historyUrl: historyUrl(envUrl(env, 'HISTORY_URL', DEFAULT_HISTORY_URL)),
    historyToken: envSecret(env, 'HISTORY_TOKEN') ?? envSecret(env, 'ALERTBUS_TOKEN'),
    updateHoldMs: envInt(env, 'SLACK_UPDATE_HOLD_MS', DEFAULT_SLACK_UPDATE_HOLD_MS, { min: 0, max: 60_000 }),
    retryPolicy: deliveryRetryFromEnv(env),
    infraRetry: infraRetryFromEnv(env),
    pgTimeouts: pgTimeoutsFromEnv(env),
  };
}

/** JSM Operations' host: its integration API has alerts only, no who-is-on-call. */
const isJsmHost = (url: string) => new URL(url).hostname === 'api.atlassian.com';

/**
 * Where who-is-on-call is asked, and with which key: ONCALL_OPSGENIE_API_URL and ONCALL_OPSGENIE_API_KEY, else the
 * pager's OPSGENIE_API_URL and OPSGENIE_API_KEY, unless those are JSM's (the switch to JSM the opsgenie-sink README
 * describes sets them for every service): then the lookup asked api.atlassian.com/v2/schedules, which does not
 * exist, with an integration key; it stays on Opsgenie, and needs ONCALL_OPSGENIE_API_KEY.
 */
function onCallOpsgenie(env: Record<string, string | undefined>): { opsgenieApiKey?: string; opsgenieApiUrl: string; onCallNotice?: string } {
  const explicitUrl = envOptional(env, 'ONCALL_OPSGENIE_API_URL');
  if (explicitUrl !== undefined) {
    const url = envUrl(env, 'ONCALL_OPSGENIE_API_URL', DEFAULT_OPSGENIE_API_URL).replace(/\/+$/, '');
    if (isJsmHost(url)) {
      throw new ConfigError('ONCALL_OPSGENIE_API_URL is JSM Operations (api.atlassian.com), which has no who-is-on-call for an integration key: give Opsgenie\'s host (https://api.opsgenie.com or https://api.eu.opsgenie.com)');
    }
    const key = envSecret(env, 'ONCALL_OPSGENIE_API_KEY') ?? envSecret(env, 'OPSGENIE_API_KEY');
    return { opsgenieApiUrl: url, ...(key ? { opsgenieApiKey: key } : {}) };
  }
  const pagerUrl = envUrl(env, 'OPSGENIE_API_URL', DEFAULT_OPSGENIE_API_URL).replace(/\/+$/, '');
  const jsm = isJsmHost(pagerUrl) || env.PAGER_PROVIDER === 'jsm';
  if (!jsm) {
    const key = envSecret(env, 'ONCALL_OPSGENIE_API_KEY') ?? envSecret(env, 'OPSGENIE_API_KEY');
    return { opsgenieApiUrl: pagerUrl, ...(key ? { opsgenieApiKey: key } : {}) };
  }
  const key = envSecret(env, 'ONCALL_OPSGENIE_API_KEY');
  return {
    opsgenieApiUrl: isJsmHost(pagerUrl) ? DEFAULT_OPSGENIE_API_URL : pagerUrl,
    ...(key ? { opsgenieApiKey: key } : {}),
    onCallNotice: key
      ? undefined
      : 'the pager is JSM (PAGER_PROVIDER=jsm or OPSGENIE_API_URL on api.atlassian.com): on-call lookups ask Opsgenie and need ONCALL_OPSGENIE_API_KEY (and ONCALL_OPSGENIE_API_URL for an EU account)',
  };
}

function loadUserGroupConfig(env: Record<string, string | undefined>): OnCallUserGroupConfig | undefined {
  const usergroup = envOptional(env, 'ONCALL_USERGROUP_ID');
  const intervalMinutes = envInt(env, 'ONCALL_USERGROUP_INTERVAL_MINUTES', DEFAULT_ONCALL_USERGROUP_INTERVAL_MINUTES, {
    min: 1,
    max: 1_440,
  });
  if (!usergroup) return undefined;
  if (!/^S[A-Z0-9]+$/.test(usergroup)) throw new ConfigError(`ONCALL_USERGROUP_ID must be a user group id (S…), got "${usergroup}"`);
  const schedule = envOptional(env, 'ONCALL_SCHEDULE');
  if (!schedule) throw new ConfigError('ONCALL_USERGROUP_ID is set but ONCALL_SCHEDULE (the schedule whose on-call fills it) is not');
  return { usergroup, schedule, intervalMinutes };
}

/**
 * What the slack-sink's start line says of it. Its API URLs without what they may carry: a proxy's user and password,
 * a key in the query.
 */
export function listeningFields(config: SlackSinkConfig, sink: { opsUrl: string; dryRun: boolean }): Record<string, unknown> {
  return {
    ops: sink.opsUrl,
    slackApiUrl: quotableUrl(config.apiUrl),
    dryRun: sink.dryRun,
    onCall: {
      opsgenieApiUrl: config.opsgenieApiUrl && quotableUrl(config.opsgenieApiUrl),
      lookups: config.opsgenieApiKey ? 'enabled' : config.onCallNotice ? 'no ONCALL_OPSGENIE_API_KEY (the pager is JSM)' : 'no OPSGENIE_API_KEY',
      cacheTtlSeconds: config.onCallCacheTtlSeconds,
      userGroupJob: config.onCallUserGroup ?? 'off',
    },
  };
}
