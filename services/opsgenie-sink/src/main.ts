/** `npx tsx services/opsgenie-sink/src/main.ts`: the pager sink as its own process, configured from env. */
import { ConfigError, createLogger, onShutdown, StartAborted } from '@alertbus/common';
import { loadConfig, type OpsgenieSinkConfig } from './config';
import { startOpsgenieSink } from './index';

async function main(): Promise<void> {
  let config: OpsgenieSinkConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`opsgenie-sink: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // Installed before the start: a SIGTERM while Postgres or Kafka is waited for ends the wait, and the ops server with it.
  const stopping = new AbortController();
  const starting = startOpsgenieSink({ ...config, signal: stopping.signal });
  onShutdown(createLogger('opsgenie-sink', config.logLevel), [async () => stopping.abort(), async () => (await starting.catch(() => undefined))?.close()]);
  let sink;
  try {
    sink = await starting;
  } catch (err) {
    if (err instanceof StartAborted) return;
    throw err;
  }
  sink.log.info({ url: sink.url }, `opsgenie-sink listening on ${sink.url}`);
}

main().catch((err: Error) => {
  process.stderr.write(`opsgenie-sink failed to start: ${err.message}\n`);
  process.exit(1);
});
