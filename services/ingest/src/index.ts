import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createLogger, createPool, createRegistry, ensureDatabase, infraRetryFromEnv, untilReachable, type Logger, type Pool, type Registry } from '@alertbus/common';
import { InstallationStore, migrateSlackInstalls, TeamTokens } from '@alertbus/slack-installs';
import { BrokerHealth, createKafka, ensureTopics, EventProducer, installProduceEncoder } from '@alertbus/kafka';
import { buildIngestApp } from './app';
import { DeliveryWaiter } from './notify/delivery-waiter';
import { checkExposure, DEFAULT_PRODUCE_QUEUE_MAX, openIngestWarning, openInstallsWarning, type IngestConfig } from './config';
import { SlackSocket } from './socket-mode';
import { ingestProducer } from './producer';
import { SlackIdentity } from './slack/identity';
import { historyIncidentLookup } from './slack/incident-lookup';
import { OAuthState } from './slack/oauth-state';
import { TeamUserNames } from './slack/team-user-names';
import { TeamUserGroups } from './slack/user-groups';

export { buildApp, type IngestAppDeps } from './app';
export { loadConfig, type IngestConfig, type SlackIngestConfig } from './config';
export { slackSignature, verifySlackSignature } from './slack/signature';

export interface IngestOptions {
  log?: Logger;
  registry?: Registry;
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

/** Starts ingest: Kafka client, topics, a connected producer, then the HTTP listener. */
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
  // Kafka not there yet (or a topic just created and not yet served) is waited for, with INFRA_RETRY_*'s back-off.
  const wait = { log, policy: infraRetryFromEnv() };
  await untilReachable('Kafka', () => ensureTopics(kafka), wait);
  const producer = ingestProducer(kafka, { maxQueuedEvents: config.produceQueueMax ?? DEFAULT_PRODUCE_QUEUE_MAX });
  await untilReachable('Kafka', () => producer.connect(), wait);
  const kafkaHealth = new BrokerHealth({ brokers: config.kafkaBrokers, clientId: 'alertbus-ingest', log });
  await kafkaHealth.start();

  const slack = config.slack;
  const identity = slack
    ? new SlackIdentity({
        configured: { userId: slack.botUserId, botId: slack.botId, workspaceUrl: slack.workspaceUrl },
        botToken: slack.botToken,
        apiUrl: slack.apiUrl,
        log: log.child({ component: 'slack-identity' }),
      })
    : undefined;
  await identity?.start();
  const deliveries = new DeliveryWaiter({ kafka, log: log.child({ component: 'notify-deliveries' }) });
  await deliveries.start();

  // OAuth installs: the tokens live in Postgres, encrypted; ingest stores them and removes them on uninstall.
  let pool: Pool | undefined;
  let store: InstallationStore | undefined;
  if (slack?.oauth) {
    await untilReachable('Postgres', () => ensureDatabase(slack.oauth!.databaseUrl), wait);
    const installs = createPool(slack.oauth.databaseUrl, 3);
    pool = installs;
    await untilReachable('Postgres', () => migrateSlackInstalls(installs), wait);
    store = new InstallationStore(pool, slack.oauth.tokenKey);
  }
  const tokens = slack ? new TeamTokens({ store, defaultToken: slack.botToken }) : undefined;
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
          userNames: tokens?.configured ? new TeamUserNames(tokens, { apiUrl: slack.apiUrl, log: log.child({ component: 'slack-user-names' }) }) : undefined,
          userGroups,
          tokens,
          installs: store,
          ...(slack.oauth && store
            ? {
                oauth: {
                  clientId: slack.oauth.clientId,
                  clientSecret: slack.oauth.clientSecret,
                  redirectUrl: slack.oauth.redirectUrl,
                  apiUrl: slack.apiUrl,
                  store,
                  state: new OAuthState(slack.oauth.tokenKey),
                },
              }
            : {}),
        }
      : undefined,
    readiness: [() => socket?.problem() ?? null],
  });
  // Read before the first click needs them, when the rules give roles to groups.
  if (slackInbox.userGroupsWanted?.()) userGroups?.warm();
  try {
    if (slack?.appToken) {
      socket = new SlackSocket({ appToken: slack.appToken, apiUrl: slack.apiUrl, inbox: { ...slackInbox, log }, log });
      await socket.start();
    }
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    identity?.stop();
    await deliveries.stop();
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
