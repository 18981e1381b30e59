import { ConfigError, envBrokers, envBytes, envInt, envOptional, envString, envUrl } from '@alertbus/common';

/** Everything ingest reads from the environment, validated once at boot. */
export interface IngestConfig {
  port: number;
  host: string;
  /** When set, every webhook must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  kafkaBrokers: string[];
  /**
   * How long a request's records may wait for their turn to be handed to Kafka before it is answered 503
   * (and they are never written). Once handed over, the request waits for Kafka's acknowledgement.
   */
  kafkaTimeoutMs: number;
  /** Events queued for Kafka beyond which requests are answered 503 at once (INGEST_PRODUCE_QUEUE_MAX). */
  produceQueueMax?: number;
  /** The Slack endpoints; absent when SLACK_SIGNING_SECRET is not set (they then answer 503). */
  slack?: SlackIngestConfig;
}

/** What the Slack Events API and interactivity endpoints need. */
export interface SlackIngestConfig {
  signingSecret: string;
  /** Used once at start (auth.test) to learn the app's own bot user id, bot id and workspace URL. */
  botToken?: string;
  /** Web API base URL, ending in `/`. */
  apiUrl: string;
  /** The app's own ids, when configured instead of (or on top of) auth.test. */
  botUserId?: string;
  botId?: string;
  /** e.g. https://acme.slack.com/ — for message permalinks; auth.test tells it too. */
  workspaceUrl?: string;
  /** How long a Slack request waits for Kafka before 503: Slack wants an answer within 3 s. */
  ackTimeoutMs: number;
}

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';
/** Slack retries when it has no 2xx within 3 s; leave room for the network. */
export const DEFAULT_SLACK_ACK_TIMEOUT_MS = 2_500;

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

function loadSlackConfig(env: Env): SlackIngestConfig | undefined {
  const signingSecret = envOptional(env, 'SLACK_SIGNING_SECRET');
  if (signingSecret === undefined) return undefined;
  if (/\s/.test(signingSecret)) throw new ConfigError('SLACK_SIGNING_SECRET must not contain whitespace');
  const botToken = envOptional(env, 'SLACK_BOT_TOKEN');
  const botUserId = envOptional(env, 'SLACK_BOT_USER_ID');
  const botId = envOptional(env, 'SLACK_BOT_ID');
  if (!botToken && !botUserId && !botId) {
    throw new ConfigError(
      'SLACK_SIGNING_SECRET is set but neither SLACK_BOT_TOKEN (to ask auth.test) nor SLACK_BOT_USER_ID / SLACK_BOT_ID ' +
        "is: ingest could not recognise the app's own messages and would answer itself",
    );
  }
  const workspaceUrl = envOptional(env, 'SLACK_WORKSPACE_URL');
  return {
    signingSecret,
    botToken,
    apiUrl: withSlash(envUrl(env, 'SLACK_API_URL', DEFAULT_SLACK_API_URL)),
    botUserId,
    botId,
    workspaceUrl: workspaceUrl === undefined ? undefined : withSlash(envUrl(env, 'SLACK_WORKSPACE_URL', workspaceUrl)),
    ackTimeoutMs: envInt(env, 'INGEST_SLACK_TIMEOUT_MS', DEFAULT_SLACK_ACK_TIMEOUT_MS, { min: 1, max: 2_900 }),
  };
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_PRODUCE_QUEUE_MAX = 10_000;

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): IngestConfig {
  const bodyLimit = envBytes(env, 'INGEST_BODY_LIMIT', DEFAULT_BODY_LIMIT);
  if (bodyLimit < 1) throw new ConfigError(`INGEST_BODY_LIMIT must be at least 1 byte, got "${env.INGEST_BODY_LIMIT}"`);
  const slack = loadSlackConfig(env);
  return {
    port: envInt(env, 'INGEST_PORT', 8080, { min: 0, max: 65535 }),
    host: envString(env, 'INGEST_HOST', '0.0.0.0'),
    token: envOptional(env, 'INGEST_TOKEN'),
    bodyLimit,
    kafkaBrokers: envBrokers(env),
    kafkaTimeoutMs: envInt(env, 'INGEST_KAFKA_TIMEOUT_MS', 10_000, { min: 1 }),
    produceQueueMax: envInt(env, 'INGEST_PRODUCE_QUEUE_MAX', DEFAULT_PRODUCE_QUEUE_MAX, { min: 1, max: 10_000_000 }),
    ...(slack ? { slack } : {}),
  };
}
