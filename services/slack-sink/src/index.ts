import { join } from 'node:path';
import {
  createLogger,
  createPool,
  createRegistry,
  ensureDatabase,
  loadMigrations,
  migrate,
  startOpsServer,
  StartWaits,
  untilReachable,
  Counter,
  Gauge,
  type Pool,
  type Registry,
} from '@alertbus/common';
import { createKafka, ensureTopics } from '@alertbus/kafka';
import { responseUrlOrigins } from '@alertbus/normalise';
import { CommandLedger, SinkRunner, createSinkProducer, migrateLedger, sinkReadiness } from '@alertbus/sink-runtime';
import { GROUPS, TOPICS } from '@alertbus/schemas';
import { InstallationStore, migrateSlackInstalls, TeamTokens } from '@alertbus/slack-installs';
import { DEFAULT_ONCALL_CACHE_TTL_SECONDS, DEFAULT_OPSGENIE_API_URL, type SlackSinkConfig } from './config';
import { HistoryClient, historyUrl } from '@alertbus/history-client';
import { NotificationPoster } from './notifications';
import { postSettleWindow } from './reconcile';
import { SlackNotifier } from './notifier';
import { OnCallCache } from './oncall/cache';
import { opsgenieOnCall } from './oncall/opsgenie';
import { OnCallResolver } from './oncall/resolver';
import { OnCallUserGroupJob, type UserGroupSyncResult } from './oncall/usergroup-job';
import { SlashAnswers } from './slash-answers';
import { CommandSteps } from './steps';
import { ThreadCommands } from './thread-commands';
import { TeamClients } from './team-clients';
import { ThreadStore } from './threads';
import { DEFAULT_SLACK_UPDATE_HOLD_MS, UpdateHold } from './update-hold';

export * from './config';
export { DEFAULT_SLACK_UPDATE_HOLD_MS } from './update-hold';
export { SlackClient, toDeliveryError, RETRYABLE_PLATFORM_ERRORS } from './client';
export { SlackNotifier } from './notifier';
export { OnCallResolver } from './oncall/resolver';
export { opsgenieOnCall, type OnCallProvider } from './oncall/opsgenie';
export type { UserGroupSyncResult } from './oncall/usergroup-job';

/** The sink's name in the command ledger, logs, metrics and as the `source` of its delivery events. */
export const SLACK_SINK = 'slack-sink';

export interface SlackSink {
  /** Base URL of /healthz, /readyz and /metrics. */
  opsUrl: string;
  dryRun: boolean;
  registry: Registry;
  /** Runs the on-call user group job once now (undefined when the job is not configured). */
  syncOnCallUserGroup?: () => Promise<UserGroupSyncResult>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Aborted to stop the sink while it still waits for Postgres or Kafka at start: startSlackSink rejects with StartAborted. */
  signal?: AbortSignal;
}

export async function migrateSlackSink(pool: Pool): Promise<void> {
  await migrateLedger(pool);
  await migrate(pool, SLACK_SINK, loadMigrations(join(__dirname, '..', 'migrations')));
}

/** Starts consuming Slack commands and executing them against the Web API (or dry, without a token). */
export async function startSlackSink(config: SlackSinkConfig & StartOptions): Promise<SlackSink> {
  const log = config.log ?? createLogger(SLACK_SINK, config.logLevel);
  const registry = createRegistry(SLACK_SINK);
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch((err) => log.warn({ err }, 'error while closing'));
  };

  try {
    // The ops server answers from the start: while Postgres or Kafka is waited for the sink is alive, not ready, and says why.
    const waits = new StartWaits(registry, config.signal);
    let readiness: () => Promise<string | null> | string | null = () => null;
    const ops = await startOpsServer(config.port, registry, { ready: waits.readiness(() => readiness()) }, config.host);
    closers.push(() => ops.app.close());
    const wait = { log, policy: config.infraRetry, waits };
    await untilReachable('Postgres', () => ensureDatabase(config.databaseUrl, config.pgTimeouts), wait);
    const pool = createPool(config.databaseUrl, 5, config.pgTimeouts);
    closers.push(() => pool.end());
    await untilReachable('Postgres', () => migrateSlackSink(pool), wait);

    const kafka = createKafka({ brokers: config.brokers, clientId: `alertbus-${SLACK_SINK}`, log });
    await untilReachable('Kafka', () => ensureTopics(kafka), wait);
    const producer = createSinkProducer(kafka);
    await untilReachable('Kafka', () => producer.connect(), wait);
    closers.push(() => producer.disconnect());

    // Each command speaks for its workspace: an OAuth installation's token (SLACK_TOKEN_KEY), else SLACK_BOT_TOKEN.
    if (config.tokenKey) await migrateSlackInstalls(pool);
    const tokens = new TeamTokens({
      ...(config.tokenKey ? { store: new InstallationStore(pool, config.tokenKey) } : {}),
      defaultToken: config.token,
    });
    // Without installations SLACK_BOT_TOKEN speaks for every command: Slack refusing it is the sink's fault, and waits.
    const clients = new TeamClients(tokens, { apiUrl: config.apiUrl, timeoutMs: config.requestTimeoutMs, log, soleToken: !config.tokenKey });
    const client = (await clients.forTeam(undefined))?.client;
    new Gauge({
      name: 'alertbus_slack_token_refused',
      help: '1 while Slack refuses SLACK_BOT_TOKEN, the sink\'s only token (invalid_auth, token_revoked, missing_scope…): every Slack command waits until it is fixed.',
      registers: [registry],
      collect() {
        this.set(client?.tokenProblem() ? 1 : 0);
      },
    });
    const dryRun = !tokens.configured;
    const cache = new OnCallCache(pool);
    const lookups = new Counter({
      name: 'alertbus_oncall_lookups_total',
      help: 'On-call lookups, by where the answer came from (cache or opsgenie).',
      labelNames: ['source'],
      registers: [registry],
    });
    const provider = config.opsgenieApiKey
      ? opsgenieOnCall({ apiUrl: config.opsgenieApiUrl ?? DEFAULT_OPSGENIE_API_URL, apiKey: config.opsgenieApiKey, timeoutMs: config.requestTimeoutMs })
      : undefined;
    const ttlSeconds = config.onCallCacheTtlSeconds ?? DEFAULT_ONCALL_CACHE_TTL_SECONDS;
    const resolver = dryRun ? undefined : new OnCallResolver({ provider, slack: client, cache, ttlMs: ttlSeconds * 1000, lookups, log });
    // Slack's response-URL hosts, and SLACK_API_URL's origin when it is a stand-in: answers are posted nowhere else.
    const answerOrigins = responseUrlOrigins(config.apiUrl);
    // A post that got no answer may still be made: not found before this window is over, it waits and is looked for again.
    const settle = postSettleWindow(config.requestTimeoutMs, config.postSettleMs);
    const threadCommands = new ThreadCommands({
      clients,
      resolver,
      cache,
      steps: new CommandSteps(pool),
      log,
      lookupRetry: config.lookupRetry,
      settle,
      onCallLookupAttempts: config.onCallLookupAttempts,
      webhookSecret: config.commandWebhookSecret,
      timeoutMs: config.requestTimeoutMs,
      responseUrlLifetimeMs: config.responseUrlLifetimeMs,
      responseUrlOrigins: answerOrigins,
    });
    const notifications = new NotificationPoster({ client, log, lookupRetry: config.lookupRetry, settle });
    const slashAnswers = new SlashAnswers({
      clients,
      resolver,
      history: new HistoryClient(historyUrl(config.historyUrl, {}), config.historyToken, { url: "the slack-sink's HISTORY_URL", token: "the slack-sink's HISTORY_TOKEN" }),
      log,
      timeoutMs: config.requestTimeoutMs,
      onCallLookupAttempts: config.onCallLookupAttempts,
      responseUrlLifetimeMs: config.responseUrlLifetimeMs,
      responseUrlOrigins: answerOrigins,
    });
    const holdMs = config.updateHoldMs ?? DEFAULT_SLACK_UPDATE_HOLD_MS;
    const notifier = new SlackNotifier({
      clients,
      threads: new ThreadStore(pool),
      log,
      lookupRetry: config.lookupRetry,
      settle,
      threadCommands,
      notifications,
      slashAnswers,
      ...(holdMs > 0 ? { updateHold: new UpdateHold(holdMs) } : {}),
    });
    const runner = new SinkRunner({
      name: SLACK_SINK,
      kafka,
      groupId: GROUPS.slackSink,
      topic: TOPICS.slackCommands,
      producer,
      ledger: new CommandLedger(pool, SLACK_SINK),
      notifier,
      log,
      registry,
      dryRun,
      retryPolicy: config.retryPolicy,
      infraRetry: config.infraRetry,
    });
    await runner.start();
    closers.push(() => runner.stop());

    // Not ready while Slack refuses the sink's only token: the commands wait (retried), and the probe says why.
    readiness = async () => (await sinkReadiness(runner, pool)) ?? client?.tokenProblem() ?? null;
    waits.done();

    if (dryRun) log.warn('neither SLACK_BOT_TOKEN nor SLACK_TOKEN_KEY (OAuth installs) is set: dry-run, commands are recorded as deliveries but not sent');
    if (!dryRun && !provider) {
      log.warn(`${config.onCallNotice ?? 'no Opsgenie API key (OPSGENIE_API_KEY)'}: on-call replies will say the lookup is not configured`);
    }

    let job: OnCallUserGroupJob | undefined;
    const group = config.onCallUserGroup;
    if (group && (!resolver || !provider || !client)) {
      log.warn({ usergroup: group.usergroup }, 'the on-call user group job needs SLACK_BOT_TOKEN and OPSGENIE_API_KEY; not started');
    } else if (group && resolver && client) {
      job = new OnCallUserGroupJob({
        config: group,
        resolver,
        client,
        emit: (events) => producer.send(events),
        log: log.child({ component: 'oncall-usergroup' }),
        registry,
      });
      job.start();
      closers.push(() => job!.stop());
      log.info({ usergroup: group.usergroup, schedule: group.schedule, everyMinutes: group.intervalMinutes }, 'on-call user group job started');
    }
    return { opsUrl: ops.url, dryRun, registry, syncOnCallUserGroup: job ? () => job.syncOnce() : undefined, close };
  } catch (err) {
    await close();
    throw err;
  }
}
