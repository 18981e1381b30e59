import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerOpsRoutes, type Logger, type Registry } from '@alertbus/common';
import { newId as randomId } from '@alertbus/schemas';
import type { AcceptDeps, IngestProducer, KafkaReachability } from './accept';
import type { IngestConfig } from './config';
import { ingestMetrics, slackMetrics } from './metrics';
import { bearerAuth, type AcceptedToken } from './plugins/bearer-auth';
import { formatSchemaErrors, registerErrorHandling } from './plugins/errors';
import { acceptJsonBodies } from './plugins/json-body';
import { accessLogger, requestLoggerFactory } from './plugins/request-logger';
import { alertmanagerRoutes } from './routes/alertmanager';
import { genericRoutes } from './routes/generic';
import { DEFAULT_NOTIFY_SYNC_TIMEOUT_MS, notifyRoutes } from './routes/notify';
import type { DeliveryWaits } from './notify/delivery-waiter';
import { TagBook } from './notify/tag-book';
import { grafanaRoutes } from './routes/grafana';
import { jsmRoutes, opsgenieRoutes } from './routes/pager';
import { oauthRoutes, type OAuthRouteDeps } from './routes/oauth';
import { slackRoutes } from './routes/slack';
import type { IdentitySource } from './slack/identity';
import type { SlackInboxDeps } from './slack/inbox';
import type { IncidentLookup } from './slack/incident-lookup';
import type { InstallationStore, TeamTokens } from '@alertbus/slack-installs';
import type { UserGroupSource } from './slack/user-groups';
import type { UserNameSource } from './slack/user-names';
import { DEFAULT_MAX_ALERTS, DEFAULT_MAX_NORMALISED_BYTES, DEFAULT_SLACK_ACK_TIMEOUT_MS } from './config';

export interface IngestAppDeps {
  producer: IngestProducer;
  config: Pick<IngestConfig, 'token' | 'tokens' | 'directSenders' | 'pagerSenders' | 'bodyLimit' | 'kafkaTimeoutMs' | 'maxAlerts' | 'maxNormalisedBytes'>;
  registry: Registry;
  log: Logger;
  now?: () => Date;
  newId?: () => string;
  /** Whether Kafka answers (a metadata round trip every few seconds): not ready, and 503 at once, while it does not. */
  kafkaHealth?: KafkaReachability;
  /** The Slack endpoints; without a signing secret they answer 503 "Slack is not configured". */
  slack?: SlackAppOptions;
  /** POST /notify: the rules file the tags come from, and the deliveries a sync request waits for. */
  notify?: { rulesPath?: string; deliveries?: DeliveryWaits; syncTimeoutMs?: number };
}

export interface SlackAppOptions {
  signingSecret?: string;
  /** The app's own identity, so its own messages are dropped. */
  identity?: IdentitySource;
  userNames?: UserNameSource;
  /** The user groups of who wrote or clicked, carried in the input for `permissions:`. */
  userGroups?: UserGroupSource;
  ackTimeoutMs?: number;
  /** Tokens and bot ids per workspace (OAuth installs), and where an uninstall removes them. */
  tokens?: TeamTokens;
  installs?: Pick<InstallationStore, 'remove'>;
  /** GET /slack/install and /slack/oauth_redirect (SLACK_CLIENT_ID set). */
  oauth?: Omit<OAuthRouteDeps, 'now' | 'tokens'>;
  /** SLACK_COMMAND (default /alertbus). */
  slashCommand?: string;
  /** SLACK_ALLOWED_TEAMS: the only workspaces whose requests and installs are taken. */
  allowedTeams?: ReadonlySet<string>;
  /** Incident id → alias, for `/alertbus ack <id>`. */
  incidents?: IncidentLookup;
  /** Where a response_url may point (responseUrlOrigins(SLACK_API_URL)); default Slack's hosts alone. */
  responseUrlOrigins?: ReadonlySet<string>;
}

/** The app, and what Slack events need besides it (Socket Mode feeds them into the same path). */
export interface IngestApp {
  app: FastifyInstance;
  slackInbox: Omit<SlackInboxDeps, 'log'>;
}

/** The ingest HTTP app, composed of plugins and not listening, so tests drive it with `app.inject` or their own port. */
export function buildApp(deps: IngestAppDeps): FastifyInstance {
  return buildIngestApp(deps).app;
}

export function buildIngestApp(deps: IngestAppDeps): IngestApp {
  const { producer, config, registry } = deps;
  const app = Fastify({
    loggerInstance: accessLogger(deps.log as FastifyBaseLogger),
    // No access log lines for webhooks: at thousands a second two lines each cost more than the request. A refused
    // one is still logged (the error handler), and every accepted alert is on Kafka and counted in /metrics.
    logController: new LogController({ disableRequestLogging: (req) => req.url.startsWith('/webhooks/') }),
    childLoggerFactory: requestLoggerFactory,
    bodyLimit: config.bodyLimit,
    // Validate only: the body is kept as `raw`, so ajv must not coerce, default or strip anything in it.
    ajv: { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false } },
    schemaErrorFormatter: formatSchemaErrors,
  });

  const metrics = ingestMetrics(registry);
  metrics.produceCalls.read = () => producer.produceCalls;
  metrics.produceQueue.read = () => producer.backlog;
  registerErrorHandling(app, config.bodyLimit);
  // One labelled child per route and status, looked up by a string: a label set hashed per request, and an async
  // hook's promise, cost more than the count itself at thousands of requests a second.
  const requestCounts = new Map<string, { inc: () => void }>();
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const key = `${reply.statusCode} ${route}`;
    let count = requestCounts.get(key);
    if (!count) requestCounts.set(key, (count = metrics.requests.labels({ route, status: String(reply.statusCode) })));
    count.inc();
    done();
  });

  registerOpsRoutes(app, registry, {
    ready: () =>
      !producer.connected
        ? 'the Kafka producer is not connected'
        : (deps.kafkaHealth?.problem ?? null),
  });

  /** The rules file (ROUTING_RULES), looked at again when it changes: notification tags, and whether user groups matter. */
  const rulesBook = new TagBook(deps.notify?.rulesPath, deps.log);
  const accept: AcceptDeps = {
    producer,
    kafkaTimeoutMs: config.kafkaTimeoutMs,
    metrics,
    now: deps.now ?? (() => new Date()),
    newId: deps.newId ?? randomId,
    maxNormalisedBytes: config.maxNormalisedBytes ?? DEFAULT_MAX_NORMALISED_BYTES,
    ...(deps.kafkaHealth ? { kafkaHealth: deps.kafkaHealth } : {}),
  };
  const tokens: AcceptedToken[] = [...(config.token ? [{ token: config.token }] : []), ...(config.tokens ?? [])];
  void app.register(async (webhooks) => {
    acceptJsonBodies(webhooks, { maxAlerts: config.maxAlerts ?? DEFAULT_MAX_ALERTS });
    if (tokens.length > 0) webhooks.addHook('onRequest', bearerAuth(tokens));
    await webhooks.register(alertmanagerRoutes, accept);
    await webhooks.register(grafanaRoutes, accept);
    await webhooks.register(genericRoutes, accept);
    const pager = { ...accept, pagerSenders: new Set(config.pagerSenders ?? []) };
    await webhooks.register(opsgenieRoutes, pager);
    await webhooks.register(jsmRoutes, pager);
    await webhooks.register(notifyRoutes, {
      accept,
      tags: rulesBook,
      ...(deps.notify?.deliveries ? { deliveries: deps.notify.deliveries } : {}),
      syncTimeoutMs: deps.notify?.syncTimeoutMs ?? DEFAULT_NOTIFY_SYNC_TIMEOUT_MS,
      ...(tokens.length > 0 ? { directSenders: new Set(config.directSenders ?? []) } : {}),
    });
  });
  const slackInbox: Omit<SlackInboxDeps, 'log'> = {
    userGroupsWanted: () => rulesBook.wantsUserGroups(),
    accept,
    identity: deps.slack?.identity,
    userNames: deps.slack?.userNames,
    userGroups: deps.slack?.userGroups,
    tokens: deps.slack?.tokens,
    installs: deps.slack?.installs,
    slashCommand: deps.slack?.slashCommand,
    ...(deps.slack?.allowedTeams ? { allowedTeams: deps.slack.allowedTeams } : {}),
    incidents: deps.slack?.incidents,
    ...(deps.slack?.responseUrlOrigins ? { responseUrlOrigins: deps.slack.responseUrlOrigins } : {}),
    ackTimeoutMs: Math.min(deps.slack?.ackTimeoutMs ?? DEFAULT_SLACK_ACK_TIMEOUT_MS, config.kafkaTimeoutMs),
    metrics: slackMetrics(registry),
  };
  void app.register(slackRoutes, { ...slackInbox, signingSecret: deps.slack?.signingSecret });
  const oauth = deps.slack?.oauth;
  if (oauth) {
    void app.register(oauthRoutes, { ...oauth, tokens: deps.slack?.tokens, now: accept.now, ...(deps.slack?.allowedTeams ? { allowedTeams: deps.slack.allowedTeams } : {}) });
  }
  return { app, slackInbox };
}
