import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import {
  createLogger,
  createPool,
  createRegistry,
  ensureDatabase,
  infraRetryFromEnv,
  refuseWhileStarting,
  StartWaits,
  untilReachable,
  type Logger,
  type Pool,
  type Registry,
} from '@alertbus/common';
import { InstallationStore, migrateSlackInstalls, TeamTokens } from '@alertbus/slack-installs';
import { BrokerHealth, createKafka, ensureTopics, EventProducer, installProduceEncoder } from '@alertbus/kafka';
import { responseUrlOrigins } from '@alertbus/normalise';
import { buildIngestApp } from './app';
import { DeliveryWaiter } from './notify/delivery-waiter';
import { checkExposure, DEFAULT_PRODUCE_QUEUE_MAX, openIngestWarning, openInstallsWarning, type IngestConfig } from './config';
import { SlackSocket } from './socket-mode';
import { slackSocketGauge } from './metrics';
import { ingestProducer } from './producer';
import { SlackIdentity } from './slack/identity';
import { historyIncidentLookup } from './slack/incident-lookup';
import { OAuthState } from './slack/oauth-state';
import { TeamUserNames } from './slack/team-user-names';
import { TeamUserGroups } from './slack/user-groups';

/** How long a Slack request waits for its team's installation to be read from Postgres. */
const SLACK_INSTALL_LOOKUP_TIMEOUT_MS = 300;

export { buildApp, type IngestAppDeps } from './app';
export { loadConfig, type IngestConfig, type SlackIngestConfig } from './config';
export { slackSignature, verifySlackSignature } from './slack/signature';

export interface IngestOptions {
  log?: Logger;
  registry?: Registry;
  /** Aborted to stop ingest while it still waits for Kafka (or Postgres) at start: startIngest rejects with StartAborted. */
  signal?: AbortSignal;
}

export interface RunningIngest {
  url: string;
  port: number;
  app: FastifyInstance;
  producer: EventProducer;
  /** Whether Kafka answers, probed every few seconds; /readyz and the 503s follow it. */
  kafkaHealth: BrokerHealth;
  /** The app's own Slack identity (undefined until known, or when Slack is not configured). */
  slackIdentity?: SlackIdentity;
  /** The Socket Mode connection (SLACK_APP_TOKEN set). */
  slackSocket?: SlackSocket;
  /** Stops accepting, lets in-flight requests finish (and their records be acknowledged), then disconnects. */
  close(): Promise<void>;
}

/** Starts ingest: the HTTP listener (refusing webhooks until started), then Kafka's topics and a connected producer. */
export async function startIngest(config: IngestConfig, opts: IngestOptions = {}): Promise<RunningIngest> {
  // As loadConfig does, for a configuration built in code.
  checkExposure(config);
  const log = opts.log ?? createLogger('ingest');
  const registry = opts.registry ?? createRegistry('ingest');
  const open = openIngestWarning(config);
  if (open) log.warn({ host: config.host, auth: 'none' }, open);
  const openInstalls = openInstallsWarning(config.slack);
  if (openInstalls) log.warn({ allowedTeams: 'all' }, openInstalls);
  // Records encoded in one pass (the same bytes as KafkaJS's): its own encoder was a fifth of ingest's CPU per alert.
  installProduceEncoder();
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'alertbus-ingest', log });
  // The port answers from the start: while Kafka (or Postgres, for OAuth installs) is waited for, ingest is alive, not
  // ready, and refuses webhooks with a 503 their senders retry. Everything below is built now and connected after.
  const waits = new StartWaits(registry, opts.signal);
  // Kafka not there yet (or a topic just created and not yet served) is waited for, with INFRA_RETRY_*'s back-off.
  const wait = { log, policy: infraRetryFromEnv(), waits };
  const producer = ingestProducer(kafka, { maxQueuedEvents: config.produceQueueMax ?? DEFAULT_PRODUCE_QUEUE_MAX });
  const kafkaHealth = new BrokerHealth({ brokers: config.kafkaBrokers, clientId: 'alertbus-ingest', log });

  const slack = config.slack;
  const identity = slack
    ? new SlackIdentity({
        configured: { userId: slack.botUserId, botId: slack.botId, workspaceUrl: slack.workspaceUrl },
        botToken: slack.botToken,
        apiUrl: slack.apiUrl,
        log: log.child({ component: 'slack-identity' }),
      })
    : undefined;
  const deliveries = new DeliveryWaiter({ kafka, log: log.child({ component: 'notify-deliveries' }) });

  // OAuth installs: the tokens live in Postgres, encrypted; ingest stores them and removes them on uninstall.
  const oauth = slack?.oauth;
  // Not connected before its first query: the database is waited for below.
  const pool: Pool | undefined = oauth ? createPool(oauth.databaseUrl, 3) : undefined;
  const store = oauth && pool ? new InstallationStore(pool, oauth.tokenKey) : undefined;
  // A request from Slack is answered within its 3 s: a team's installation not read in time counts as not there
  // (the configured bot's identity, no user names or groups), and the team's next look-ups fail at once for a while.
  const tokens = slack ? new TeamTokens({ store, defaultToken: slack.botToken, lookupTimeoutMs: SLACK_INSTALL_LOOKUP_TIMEOUT_MS }) : undefined;
  let socket: SlackSocket | undefined;
  const userGroups =
    slack && tokens?.configured
      ? new TeamUserGroups(tokens, { apiUrl: slack.apiUrl, ttlMs: slack.userGroupsTtlMs, log: log.child({ component: 'slack-user-groups' }) })
      : undefined;

  const { app, slackInbox } = buildIngestApp({
    producer,
    config,
    registry,
    log,
    kafkaHealth,
    notify: { rulesPath: config.rulesPath, deliveries, syncTimeoutMs: config.notifySyncTimeoutMs },
    slack: slack
      ? {
          signingSecret: slack.signingSecret,
          slashCommand: slack.slashCommand,
          ...(slack.allowedTeams ? { allowedTeams: slack.allowedTeams } : {}),
          incidents: slack.historyUrl ? historyIncidentLookup({ historyUrl: slack.historyUrl, token: slack.historyToken }) : undefined,
          identity,
          ackTimeoutMs: slack.ackTimeoutMs,
          // Slack's response-URL hosts, and SLACK_API_URL's origin when it is a stand-in (it issues response_urls there).
          responseUrlOrigins: responseUrlOrigins(slack.apiUrl),
          userNames: tokens?.configured ? new TeamUserNames(tokens, { apiUrl: slack.apiUrl, log: log.child({ component: 'slack-user-names' }) }) : undefined,
          userGroups,
          tokens,
          installs: store,
          ...(oauth && store
            ? {
                oauth: {
                  clientId: oauth.clientId,
                  clientSecret: oauth.clientSecret,
                  redirectUrl: oauth.redirectUrl,
                  apiUrl: slack.apiUrl,
                  store,
                  state: new OAuthState(oauth.tokenKey),
                },
              }
            : {}),
        }
      : undefined,
  });
  refuseWhileStarting(app, waits);
  try {
    await app.listen({ port: config.port, host: config.host });
    await untilReachable('Kafka', () => ensureTopics(kafka), wait);
    await untilReachable('Kafka', () => producer.connect(), wait);
    await kafkaHealth.start();
    await identity?.start();
    await deliveries.start();
    if (oauth && pool) {
      await untilReachable('Postgres', () => ensureDatabase(oauth.databaseUrl), wait);
      await untilReachable('Postgres', () => migrateSlackInstalls(pool), wait);
    }
    // Read before the first click needs them, when the rules give roles to groups.
    if (slackInbox.userGroupsWanted?.()) userGroups?.warm();
    if (slack?.appToken) {
      // Not part of /readyz: webhooks need no Slack, and an unready ingest is taken out of its Service, alerts and all.
      socket = new SlackSocket({ appToken: slack.appToken, apiUrl: slack.apiUrl, inbox: { ...slackInbox, log }, log });
      const connected = socket;
      slackSocketGauge(registry).read = () => (connected.problem() === null ? 1 : 0);
      await socket.start();
    }
    waits.done();
  } catch (err) {
    identity?.stop();
    await deliveries.stop().catch(() => undefined);
    await socket?.stop().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await app.close().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await kafkaHealth.stop();
    throw err;
  }
  const port = (app.server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    app,
    producer,
    kafkaHealth,
    slackIdentity: identity,
    slackSocket: socket,
    close: () =>
      (closing ??= (async () => {
        identity?.stop();
        // No new envelopes; those being written are finished (and acknowledged) first.
        await socket?.stop();
        await app.close();
        await deliveries.stop();
        await pool?.end();
        await producer.disconnect();
        await kafkaHealth.stop();
      })()),
  };
}
