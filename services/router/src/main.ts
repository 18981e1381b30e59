import {
  ConfigError,
  checkHttpUrl,
  createLogger,
  envBrokers,
  envDuration,
  envInt,
  envOptional,
  envSlashCommand,
  envString,
  infraRetryFromEnv,
  startStoppable,
  startFailureText,
} from '@alertbus/common';
import { DEFAULT_STATE_RETENTION_MS, RulesError, SLASH_SILENCE_MAX_MS } from '@alertbus/routing';
import { startRouter, type RouterConfig } from './index';
import { DEFAULT_FETCH_BATCH_BYTES, DEFAULT_PIPELINE_DEPTH } from './processor';

/** Reads the router's environment; a bad value stops the process with a message naming the variable. */
function readConfig(env: NodeJS.ProcessEnv): RouterConfig {
  const instanceId = envString(env, 'ROUTER_INSTANCE_ID', '0');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(instanceId)) {
    throw new ConfigError(`ROUTER_INSTANCE_ID must be 1-64 letters, digits, dots, dashes or underscores, got "${instanceId}"`);
  }
  const watch = envString(env, 'ROUTING_RULES_WATCH', 'true');
  if (watch !== 'true' && watch !== 'false') throw new ConfigError(`ROUTING_RULES_WATCH must be true or false, got "${watch}"`);
  return {
    brokers: envBrokers(env),
    watchRules: watch === 'true',
    rulesPath: envOptional(env, 'ROUTING_RULES'),
    defaultChannel: envString(env, 'SLACK_DEFAULT_CHANNEL', '#alerts'),
    oncallSchedule: envOptional(env, 'ONCALL_SCHEDULE'),
    historyPublicUrl: historyPublicUrl(env),
    slashCommand: envSlashCommand(env),
    port: envInt(env, 'ROUTER_PORT', 8082, { min: 0, max: 65535 }),
    host: envString(env, 'ROUTER_HOST', '127.0.0.1'),
    instanceId,
    sessionTimeoutMs: envInt(env, 'ROUTER_SESSION_TIMEOUT_MS', 10_000, { min: 6_000, max: 300_000 }),
    chaosCommitDelayMs: envInt(env, 'ROUTER_CHAOS_COMMIT_DELAY_MS', 0, { min: 0, max: 10_000 }),
    silencesCatchUpTimeoutMs: envInt(env, 'ROUTER_SILENCES_WAIT_MS', 5_000, { min: 0, max: 120_000 }),
    sharedCatchUpTimeoutMs: envInt(env, 'ROUTER_SHARED_WAIT_MS', 5_000, { min: 0, max: 120_000 }),
    pipelineDepth: envInt(env, 'ROUTER_PIPELINE_DEPTH', DEFAULT_PIPELINE_DEPTH, { min: 1, max: 16 }),
    fetchBatchBytes: envInt(env, 'ROUTER_FETCH_BATCH_BYTES', DEFAULT_FETCH_BATCH_BYTES, { min: 16 * 1024, max: 64 * 1024 * 1024 }),
    retry: infraRetryFromEnv(env),
    stateRetentionMs: envDuration(env, 'ROUTER_STATE_RETENTION', DEFAULT_STATE_RETENTION_MS, { min: 3_600_000 }),
    // The history API's variable: a silence set in Slack is held to the same limit as one set through the API.
    silenceMaxMs: envDuration(env, 'SILENCE_MAX_DURATION', SLASH_SILENCE_MAX_MS, { min: 1 }),
  };
}

/** HISTORY_PUBLIC_URL must be an http(s) URL: it becomes a link button in Slack. */
function historyPublicUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = envOptional(env, 'HISTORY_PUBLIC_URL');
  if (raw === undefined) return undefined;
  return checkHttpUrl('HISTORY_PUBLIC_URL', raw);
}

async function main(): Promise<void> {
  let config: RouterConfig;
  let log: ReturnType<typeof createLogger>;
  try {
    config = readConfig(process.env);
    log = createLogger('router');
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`router: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  let router;
  try {
    router = await startStoppable(log, (signal) => startRouter({ ...config, log, signal }));
    if (!router) return;
  } catch (err) {
    if (err instanceof RulesError) {
      process.stderr.write(`router: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  log.info({ url: router.url, rulesVersion: router.rulesVersion }, 'router ops server listening');
  // SIGHUP: read the rules file again (the file is also watched); an invalid file leaves the rules in force.
  process.on('SIGHUP', () => void router.reloadRules('signal'));
  router.ready.then(
    () => log.info('router ready: state restored, consuming'),
    () => undefined,
  );
}

main().catch((err) => {
  process.stderr.write(`${startFailureText('router', err)}\n`);
  process.exit(1);
});
