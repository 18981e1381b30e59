import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createLogger, createRegistry, type Logger, type Registry } from '@alertbus/common';
import type { Kafka } from 'kafkajs';
import { BrokerHealth, createKafka, ensureTopics, EventProducer } from '@alertbus/kafka';
import { buildApp } from './app';
import { DeliveryWaiter } from './notify/delivery-waiter';
import { DEFAULT_PRODUCE_QUEUE_MAX, openIngestWarning, type IngestConfig } from './config';
import { SlackIdentity } from './slack/identity';
import { SlackUserNames } from './slack/user-names';

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
  /** Stops accepting, lets in-flight requests finish (and their records be acknowledged), then disconnects. */
  close(): Promise<void>;
}

/**
 * ensureTopics, retried: right after a topic is created (or the broker started), metadata requests can
 * briefly answer "This server does not host this topic-partition"; that must not fail the start.
 */
async function ensureTopicsPatiently(kafka: Kafka, log: Logger, attempts = 6): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureTopics(kafka);
      return;
    } catch (err) {
      if (attempt >= attempts) throw err;
      log.warn({ attempt, err: (err as Error).message }, 'topics not ready yet, retrying');
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** Starts ingest: Kafka client, topics, a connected producer, then the HTTP listener. */
export async function startIngest(config: IngestConfig, opts: IngestOptions = {}): Promise<RunningIngest> {
  const log = opts.log ?? createLogger('ingest');
  const registry = opts.registry ?? createRegistry('ingest');
  const open = openIngestWarning(config);
  if (open) log.warn({ host: config.host, auth: 'none' }, open);
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'alertbus-ingest', log });
  await ensureTopicsPatiently(kafka, log);
  const producer = new EventProducer(kafka, { maxQueuedEvents: config.produceQueueMax ?? DEFAULT_PRODUCE_QUEUE_MAX });
  await producer.connect();
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

  const app = buildApp({
    producer,
    config,
    registry,
    log,
    kafkaHealth,
    notify: { rulesPath: config.rulesPath, deliveries, syncTimeoutMs: config.notifySyncTimeoutMs },
    slack: slack
      ? {
          signingSecret: slack.signingSecret,
          identity,
          ackTimeoutMs: slack.ackTimeoutMs,
          userNames: slack.botToken ? new SlackUserNames({ apiUrl: slack.apiUrl, botToken: slack.botToken, log: log.child({ component: 'slack-user-names' }) }) : undefined,
        }
      : undefined,
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    identity?.stop();
    await deliveries.stop();
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
    close: () =>
      (closing ??= (async () => {
        identity?.stop();
        await app.close();
        await deliveries.stop();
        await producer.disconnect();
        await kafkaHealth.stop();
      })()),
  };
}
