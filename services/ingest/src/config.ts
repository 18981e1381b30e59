import { ConfigError, DEFAULT_SLACK_API_URL, envBrokers, envBytes, envDatabaseUrl, envDuration, envInt, envOptional, envSecret, envSlashCommand, envString, envUrl } from '@alertbus/common';
import { parseTokenKey, TokenKeyError } from '@alertbus/slack-installs';
import { DEFAULT_USERGROUPS_TTL_MS } from './slack/user-groups';

/** Everything ingest reads from the environment, validated once at boot. */
export interface IngestConfig {
  port: number;
  /** INGEST_HOST (default 127.0.0.1): any other address needs a token, or allowOpen. */
  host: string;
  /** When set, every webhook must carry `Authorization: Bearer <token>`; the admin token, allowed everything. */
  token?: string;
  /** INGEST_TOKENS: more accepted bearer tokens, one per sender, whose name is recorded on the events it sends. */
  tokens?: NamedToken[];
  /** INGEST_NOTIFY_DIRECTLY: the INGEST_TOKENS names that may POST /notify-directly (INGEST_TOKEN always may). */
  directSenders?: string[];
  /**
   * INGEST_PAGER_SENDERS: the INGEST_TOKENS names, besides the entries named `opsgenie` and `jsm` (each on its own route),
   * that may post the pager webhooks, which acknowledge and close incidents.
   */
  pagerSenders?: string[];
  /** INGEST_ALLOW_OPEN=true: listen off loopback without any token, for an ingest behind an authenticating proxy. */
  allowOpen?: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Most alerts one webhook request may carry (INGEST_MAX_ALERTS). */
  maxAlerts?: number;
  /** Most bytes one request's events may come to once normalised, raw payloads included (INGEST_MAX_NORMALISED_BYTES). */
  maxNormalisedBytes?: number;
  kafkaBrokers: string[];
  /**
   * How long a request's records may wait for their turn to be handed to Kafka before it is answered 503
   * (and they are never written). Once handed over, the request waits for Kafka's acknowledgement.
   */
  kafkaTimeoutMs: number;
  /** Events queued for Kafka beyond which requests are answered 503 at once (INGEST_PRODUCE_QUEUE_MAX). */
  produceQueueMax?: number;
  /** Slack; absent when none of SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_CLIENT_ID is set (the endpoints then answer 503). */
  slack?: SlackIngestConfig;
  /** ROUTING_RULES: where POST /notify finds the notification tags. */
  rulesPath?: string;
  /** NOTIFY_SYNC_TIMEOUT (default 10s): how long POST /notify {sync: true} waits for Slack. */
  notifySyncTimeoutMs?: number;
}

/** OAuth v2 installs into several workspaces (SLACK_CLIENT_ID set). */
export interface SlackOAuthConfig {
  clientId: string;
  clientSecret: string;
  /** SLACK_TOKEN_KEY: the 32-byte AES-256-GCM key the bot tokens are sealed with in Postgres. */
  tokenKey: Buffer;
  /** SLACK_REDIRECT_URL: https://<ingest>/slack/oauth_redirect as registered with Slack; unset → Slack uses the app's only one. */
  redirectUrl?: string;
  databaseUrl: string;
}

/** What the Slack endpoints, Socket Mode and OAuth installs need. */
export interface SlackIngestConfig {
  /** Unset: the HTTP endpoints answer 503 (Socket Mode needs no signing secret). */
  signingSecret?: string;
  /** SLACK_APP_TOKEN (xapp-…): receive events over Socket Mode instead of a public request URL. */
  appToken?: string;
  oauth?: SlackOAuthConfig;
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
  /** SLACK_USERGROUPS_TTL (default 5m): how long the user groups read from Slack (for `permissions:`) are kept. */
  userGroupsTtlMs?: number;
  /** SLACK_COMMAND: the slash command POST /slack/commands answers (default /alertbus). */
  slashCommand?: string;
  /** SLACK_ALLOWED_TEAMS: the only workspaces (team ids) whose requests and installs are taken; unset: every one. */
  allowedTeams?: ReadonlySet<string>;
  /** HISTORY_URL: where `/alertbus ack <incident id>` finds the incident's alias. */
  historyUrl?: string;
  /** HISTORY_TOKEN (else ALERTBUS_TOKEN): a viewer token, when the history API asks for one. */
  historyToken?: string;
}

/** Slack retries when it has no 2xx within 3 s; leave room for the network. */
export const DEFAULT_SLACK_ACK_TIMEOUT_MS = 2_500;

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

function loadOAuthConfig(env: Env): SlackOAuthConfig | undefined {
  const clientId = envOptional(env, 'SLACK_CLIENT_ID');
  if (clientId === undefined) return undefined;
  const clientSecret = envSecret(env, 'SLACK_CLIENT_SECRET');
  if (!clientSecret) throw new ConfigError('SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET (to exchange install codes) is not');
  const rawKey = envSecret(env, 'SLACK_TOKEN_KEY');
  if (!rawKey) {
    throw new ConfigError('SLACK_CLIENT_ID is set but SLACK_TOKEN_KEY is not: installed bot tokens are only kept encrypted (`openssl rand -base64 32`)');
  }
  let tokenKey: Buffer;
  try {
    tokenKey = parseTokenKey(rawKey);
  } catch (err) {
    if (err instanceof TokenKeyError) throw new ConfigError(err.message);
    throw err;
  }
  const redirect = envOptional(env, 'SLACK_REDIRECT_URL');
  return {
    clientId,
    clientSecret,
    tokenKey,
    ...(redirect !== undefined ? { redirectUrl: envUrl(env, 'SLACK_REDIRECT_URL', redirect) } : {}),
    databaseUrl: envDatabaseUrl(env),
  };
}

/** SLACK_ALLOWED_TEAMS: team ids (T…, or E… for an org), comma-separated. */
function allowedTeams(env: Env): { allowedTeams?: ReadonlySet<string> } {
  const raw = envOptional(env, 'SLACK_ALLOWED_TEAMS');
  if (raw === undefined) return {};
  const ids = raw.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const bad = ids.find((t) => !/^[TE][A-Z0-9]{2,31}$/.test(t));
  if (bad !== undefined || ids.length === 0) {
    throw new ConfigError(`SLACK_ALLOWED_TEAMS must be Slack team ids such as T0123ABCD, comma-separated; ${bad === undefined ? 'it names none' : `not ${JSON.stringify(bad)}`}`);
  }
  return { allowedTeams: new Set(ids) };
}

/**
 * The warning to log at start when OAuth installs are on and any workspace may install the app: a user of any workspace
 * that installs it can then list, acknowledge, resolve and silence every incident (undefined when not).
 */
export function openInstallsWarning(slack: Pick<SlackIngestConfig, 'oauth' | 'allowedTeams'> | undefined): string | undefined {
  if (!slack?.oauth || slack.allowedTeams) return undefined;
  return (
    'SLACK INSTALLS ARE OPEN: any workspace that installs the app (GET /slack/install) can list, acknowledge, resolve and ' +
    'silence every incident. Set SLACK_ALLOWED_TEAMS to the team ids of your workspaces.'
  );
}

function loadSlackConfig(env: Env): SlackIngestConfig | undefined {
  const signingSecret = envSecret(env, 'SLACK_SIGNING_SECRET');
  const appToken = envSecret(env, 'SLACK_APP_TOKEN');
  const oauth = loadOAuthConfig(env);
  if (signingSecret === undefined && appToken === undefined && oauth === undefined) return undefined;
  if (appToken !== undefined && !/^xapp-\S+$/.test(appToken)) {
    throw new ConfigError('SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope');
  }
  const botToken = envSecret(env, 'SLACK_BOT_TOKEN');
  const botUserId = envOptional(env, 'SLACK_BOT_USER_ID');
  const botId = envOptional(env, 'SLACK_BOT_ID');
  if (!botToken && !botUserId && !botId && !oauth) {
    throw new ConfigError(
      `${signingSecret !== undefined ? 'SLACK_SIGNING_SECRET' : 'SLACK_APP_TOKEN'} is set but neither SLACK_BOT_TOKEN (to ask auth.test) nor ` +
        "SLACK_BOT_USER_ID / SLACK_BOT_ID (nor OAuth installs, SLACK_CLIENT_ID) is: ingest could not recognise the app's own messages and would answer itself",
    );
  }
  const workspaceUrl = envOptional(env, 'SLACK_WORKSPACE_URL');
  return {
    ...(signingSecret !== undefined ? { signingSecret } : {}),
    ...(appToken !== undefined ? { appToken } : {}),
    ...(oauth ? { oauth } : {}),
    botToken,
    apiUrl: withSlash(envUrl(env, 'SLACK_API_URL', DEFAULT_SLACK_API_URL)),
    botUserId,
    botId,
    workspaceUrl: workspaceUrl === undefined ? undefined : withSlash(envUrl(env, 'SLACK_WORKSPACE_URL', workspaceUrl)),
    ackTimeoutMs: envInt(env, 'INGEST_SLACK_TIMEOUT_MS', DEFAULT_SLACK_ACK_TIMEOUT_MS, { min: 1, max: 2_900 }),
    userGroupsTtlMs: envDuration(env, 'SLACK_USERGROUPS_TTL', DEFAULT_USERGROUPS_TTL_MS, { min: 1_000 }),
    slashCommand: envSlashCommand(env),
    ...allowedTeams(env),
    historyUrl: envUrl(env, 'HISTORY_URL', 'http://127.0.0.1:8081').replace(/\/+$/, ''),
    historyToken: envSecret(env, 'HISTORY_TOKEN') ?? envSecret(env, 'ALERTBUS_TOKEN'),
  };
}

/** Loopback: off it, ingest needs a token (checkExposure); compose and the manifests set 0.0.0.0 with one. */
export const DEFAULT_INGEST_HOST = '127.0.0.1';
/**
 * A real Alertmanager group can be thousands of alerts (every pod of a failing node, every target behind a dead
 * exporter), and Alertmanager never sends a group again after a 4xx: the bounds take a large group whole. A real
 * alert is about 1 KB as sent (kube-state-metrics' and node-exporter's, with their links and annotations), so
 * 10,000 of them come to about 10.5 MB: 16 MiB leaves room for longer annotations.
 */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;
export const DEFAULT_PRODUCE_QUEUE_MAX = 10_000;
export const DEFAULT_MAX_ALERTS = 10_000;
/**
 * Most bytes one request's events may come to as Kafka records. Normalising a webhook makes it about three times
 * larger (each alert's labels and annotations normalised and in `raw`, its links, the envelope): a real alert of
 * 1 KB comes to 2.7 to 3.1 KB, so a group of 10,000 comes to about 31 MB, and a body at the 16 MiB limit to about
 * 48 MB. Above the 900 KiB one produce call holds, the events are written in several calls, in order (see the
 * README); the bound is what one request may cost in memory and work, not one call's size.
 */
export const DEFAULT_MAX_NORMALISED_BYTES = 48 * 1024 * 1024;

/** A bearer token of INGEST_TOKENS and the name of whoever sends with it. */
export interface NamedToken {
  name: string;
  token: string;
}

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Short tokens can be guessed (16 characters is the least `openssl rand -hex 8` gives, as for HISTORY_API_TOKENS);
 * the bound also catches an entry written TOKEN:NAME, which would make the name the secret and record the secret,
 * as the sender's name, on every event.
 */
export const MIN_INGEST_TOKEN_LENGTH = 16;

/** INGEST_TOKENS=NAME:TOKEN,… — names are recorded on events, so they must be plain and unique; tokens too. */
export function parseNamedTokens(raw: string | undefined): NamedToken[] {
  if (raw === undefined || raw.trim() === '') return [];
  const out: NamedToken[] = [];
  for (const [i, entry] of raw.split(',').entries()) {
    const at = entry.indexOf(':');
    const name = at < 0 ? '' : entry.slice(0, at).trim();
    const token = at < 0 ? '' : entry.slice(at + 1).trim();
    // The message names the entry by position and name only: never echo a token.
    if (!TOKEN_NAME.test(name)) {
      throw new ConfigError(
        `INGEST_TOKENS entry ${i + 1} must be NAME:TOKEN with NAME of letters, digits, "_", "." or "-" (at most 64)`,
      );
    }
    if (token === '' || /\s/.test(token)) throw new ConfigError(`INGEST_TOKENS entry ${i + 1} has an empty token or one with whitespace`);
    // Not the name either: written the other way round (TOKEN:NAME), the "name" is the secret.
    if (token.length < MIN_INGEST_TOKEN_LENGTH) {
      throw new ConfigError(`INGEST_TOKENS entry ${i + 1}: the token (after the first colon) must be at least ${MIN_INGEST_TOKEN_LENGTH} characters`);
    }
    if (out.some((t) => t.name === name)) throw new ConfigError(`INGEST_TOKENS names "${name}" twice`);
    if (out.some((t) => t.token === token)) throw new ConfigError(`INGEST_TOKENS gives "${name}" the same token as another entry`);
    out.push({ name, token });
  }
  return out;
}

/** Addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

const hasTokens = (config: Pick<IngestConfig, 'token' | 'tokens'>) => !!config.token || (config.tokens?.length ?? 0) > 0;

/**
 * Anyone who can reach an ingest without tokens can page people and post to Slack, so off loopback it refuses to
 * start without one, unless INGEST_ALLOW_OPEN says a proxy in front of it checks who sends.
 */
export function checkExposure(config: Pick<IngestConfig, 'host' | 'token' | 'tokens' | 'allowOpen'>): void {
  if (isLoopbackHost(config.host) || hasTokens(config) || config.allowOpen) return;
  throw new ConfigError(
    `INGEST_HOST=${config.host} is not a loopback address and neither INGEST_TOKEN nor INGEST_TOKENS is set, so anyone who can ` +
      'reach this port could page people and post to Slack: set INGEST_TOKEN (at least 16 characters, e.g. `openssl rand -hex 24`) ' +
      'or INGEST_TOKENS=NAME:TOKEN,..., or listen on INGEST_HOST=127.0.0.1, or, behind a proxy that authenticates every ' +
      'request, set INGEST_ALLOW_OPEN=true',
  );
}

/** The warning to log at start when anyone who can reach the port can write alerts (undefined when not). */
export function openIngestWarning(config: Pick<IngestConfig, 'host' | 'token' | 'tokens'>): string | undefined {
  if (isLoopbackHost(config.host) || hasTokens(config)) return undefined;
  return (
    `INGEST IS OPEN: listening on ${config.host} without INGEST_TOKEN or INGEST_TOKENS (INGEST_ALLOW_OPEN=true), so anyone ` +
    'who can reach this port can page people and post to Slack. Set INGEST_TOKEN (or INGEST_TOKENS) unless a proxy in front ' +
    'of ingest authenticates every request.'
  );
}

/** INGEST_ALLOW_OPEN: true or false, nothing that could be read either way. */
function allowOpen(env: Env): boolean {
  const raw = envOptional(env, 'INGEST_ALLOW_OPEN')?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ConfigError('INGEST_ALLOW_OPEN must be true or false');
}

/** A list of INGEST_TOKENS names; one it does not know (a typo, or a token pasted by mistake) is refused by position, never quoted. */
function parseSenderNames(variable: string, raw: string | undefined, tokens: readonly NamedToken[], note: string): string[] {
  const names = (raw ?? '').split(',').map((n) => n.trim());
  if (names.every((n) => n === '')) return [];
  for (const [i, name] of names.entries()) {
    if (name === '') throw new ConfigError(`${variable} entry ${i + 1} is empty (a stray comma?); ${note}`);
    if (!tokens.some((t) => t.name === name)) {
      const known = tokens.map((t) => t.name);
      throw new ConfigError(
        `${variable} entry ${i + 1} is not the name of a sender of INGEST_TOKENS, which are case-sensitive ` +
          `(${known.length > 0 ? `senders: ${known.join(', ')}` : 'INGEST_TOKENS is not set'}); ${note}`,
      );
    }
  }
  return [...new Set(names)];
}

/** INGEST_NOTIFY_DIRECTLY=NAME,… — the INGEST_TOKENS names that may POST /notify-directly. */
export function parseDirectSenders(raw: string | undefined, tokens: readonly NamedToken[]): string[] {
  return parseSenderNames('INGEST_NOTIFY_DIRECTLY', raw, tokens, 'INGEST_TOKEN may always post to /notify-directly');
}

/** The INGEST_TOKENS names each pager webhook takes without INGEST_PAGER_SENDERS, on their own route only. */
export const PAGER_SENDER_NAMES: readonly string[] = ['opsgenie', 'jsm'];

/**
 * INGEST_PAGER_SENDERS=NAME,… — the INGEST_TOKENS names that may post /webhooks/opsgenie and /webhooks/jsm (a relay
 * in front of the pager, say). `opsgenie` and `jsm` are refused here: each is taken on its own route without being
 * listed, and listed it would read as taken on both.
 */
export function parsePagerSenders(raw: string | undefined, tokens: readonly NamedToken[]): string[] {
  const names = parseSenderNames('INGEST_PAGER_SENDERS', raw, tokens, 'the entries named opsgenie and jsm need not be listed');
  const own = names.find((n) => PAGER_SENDER_NAMES.includes(n));
  if (own !== undefined) {
    throw new ConfigError(
      `INGEST_PAGER_SENDERS lists "${own}": the INGEST_TOKENS entry named ${own} is taken on /webhooks/${own} without being listed, ` +
        'and only there (its actions are recorded as that pager\'s); leave it out',
    );
  }
  return names;
}

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): IngestConfig {
  const bodyLimit = envBytes(env, 'INGEST_BODY_LIMIT', DEFAULT_BODY_LIMIT);
  if (bodyLimit < 1) throw new ConfigError(`INGEST_BODY_LIMIT must be at least 1 byte, got "${env.INGEST_BODY_LIMIT}"`);
  const slack = loadSlackConfig(env);
  const token = envSecret(env, 'INGEST_TOKEN');
  // The message never shows the token, nor its length.
  if (token !== undefined && token.length < MIN_INGEST_TOKEN_LENGTH) {
    throw new ConfigError(`INGEST_TOKEN must be at least ${MIN_INGEST_TOKEN_LENGTH} characters (e.g. \`openssl rand -hex 24\`)`);
  }
  const tokens = parseNamedTokens(env.INGEST_TOKENS);
  if (token !== undefined && tokens.some((t) => t.token === token)) {
    throw new ConfigError('INGEST_TOKENS repeats INGEST_TOKEN: events sent with it could not say which sender they came from');
  }
  const maxNormalisedBytes = envBytes(env, 'INGEST_MAX_NORMALISED_BYTES', DEFAULT_MAX_NORMALISED_BYTES);
  if (maxNormalisedBytes < 1) throw new ConfigError(`INGEST_MAX_NORMALISED_BYTES must be at least 1 byte, got "${env.INGEST_MAX_NORMALISED_BYTES}"`);
  const host = envString(env, 'INGEST_HOST', DEFAULT_INGEST_HOST);
  const open = allowOpen(env);
  checkExposure({ host, token, tokens, allowOpen: open });
  const directSenders = parseDirectSenders(env.INGEST_NOTIFY_DIRECTLY, tokens);
  const pagerSenders = parsePagerSenders(env.INGEST_PAGER_SENDERS, tokens);
  return {
    port: envInt(env, 'INGEST_PORT', 8080, { min: 0, max: 65535 }),
    host,
    token,
    tokens,
    ...(directSenders.length > 0 ? { directSenders } : {}),
    ...(pagerSenders.length > 0 ? { pagerSenders } : {}),
    ...(open ? { allowOpen: true } : {}),
    bodyLimit,
    maxAlerts: envInt(env, 'INGEST_MAX_ALERTS', DEFAULT_MAX_ALERTS, { min: 1 }),
    maxNormalisedBytes,
    kafkaBrokers: envBrokers(env),
    kafkaTimeoutMs: envInt(env, 'INGEST_KAFKA_TIMEOUT_MS', 10_000, { min: 1 }),
    produceQueueMax: envInt(env, 'INGEST_PRODUCE_QUEUE_MAX', DEFAULT_PRODUCE_QUEUE_MAX, { min: 1, max: 10_000_000 }),
    ...(slack ? { slack } : {}),
    ...(envOptional(env, 'ROUTING_RULES') ? { rulesPath: envOptional(env, 'ROUTING_RULES') } : {}),
    notifySyncTimeoutMs: envDuration(env, 'NOTIFY_SYNC_TIMEOUT', 10_000, { min: 1, max: 300_000 }),
  };
}
