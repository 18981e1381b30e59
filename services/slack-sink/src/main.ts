/** Runs the slack-sink as a process: env → config (a bad value exits 1 with its name), SIGTERM → graceful stop. */
import { ConfigError, createLogger, startStoppable, startFailureText } from '@alertbus/common';
import { listeningFields, loadSlackSinkConfig, SLACK_SINK, startSlackSink, type SlackSinkConfig } from './index';

async function main(): Promise<void> {
  let config: SlackSinkConfig;
  try {
    config = loadSlackSinkConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${SLACK_SINK}: ${err.message}\n`);
    process.exit(1);
  }
  const log = createLogger(SLACK_SINK, config.logLevel);
  const sink = await startStoppable(log, (signal) => startSlackSink({ ...config, log, signal }));
  if (!sink) return;
  log.info(listeningFields(config, sink), 'slack-sink listening');
}

main().catch((err) => {
  process.stderr.write(`${startFailureText(SLACK_SINK, err)}\n`);
  process.exit(1);
});
