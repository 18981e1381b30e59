import { ConfigError, createLogger, startStoppable, startFailureText } from '@alertbus/common';
import { loadConfig, type IngestConfig } from './config';
import { startIngest } from './index';

/** Process entry point: validated env → running ingest, stopped gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: IngestConfig;
  let log: ReturnType<typeof createLogger>;
  try {
    config = loadConfig(process.env);
    log = createLogger('ingest');
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ingest: invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const ingest = await startStoppable(log, (signal) => startIngest(config, { log, signal }));
  if (!ingest) return;
  log.info(
    {
      url: ingest.url,
      port: ingest.port,
      host: config.host,
      auth: config.token || config.tokens?.length ? 'bearer token required' : 'none',
      senders: config.tokens?.map((t) => t.name),
      pagerWebhooks: config.tokens?.length ? [...config.tokens.map((t) => t.name).filter((n) => n === 'opsgenie' || n === 'jsm'), ...(config.pagerSenders ?? [])] : 'none (no INGEST_TOKENS)',
      notifyDirectly: config.token || config.tokens?.length ? [...(config.token ? ['INGEST_TOKEN'] : []), ...(config.directSenders ?? [])] : 'anyone (no token)',
      maxAlerts: config.maxAlerts,
      maxNormalisedBytes: config.maxNormalisedBytes,
      bodyLimit: config.bodyLimit,
      kafkaTimeoutMs: config.kafkaTimeoutMs,
      slack: config.slack
        ? {
            identity: ingest.slackIdentity?.current() ?? ingest.slackIdentity?.problem(),
            httpEndpoints: config.slack.signingSecret ? 'signed requests' : 'off (no SLACK_SIGNING_SECRET): 503',
            socketMode: config.slack.appToken ? (ingest.slackSocket?.problem() ?? 'connected') : 'off',
            oauthInstalls: config.slack.oauth ? '/slack/install' : 'off',
          }
        : 'not configured (SLACK_SIGNING_SECRET, SLACK_APP_TOKEN and SLACK_CLIENT_ID unset): /slack/* answer 503',
    },
    `ingest listening on ${config.host}:${ingest.port}`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${startFailureText('ingest', err)}\n`);
  process.exit(1);
});
