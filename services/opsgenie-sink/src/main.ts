/** `npx tsx services/opsgenie-sink/src/main.ts`: the pager sink as its own process, configured from env. */
import { ConfigError, createLogger, startStoppable, startFailureText } from '@alertbus/common';
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
  const sink = await startStoppable(createLogger('opsgenie-sink', config.logLevel), (signal) => startOpsgenieSink({ ...config, signal }));
  if (!sink) return;
  sink.log.info({ url: sink.url }, `opsgenie-sink listening on ${sink.url}`);
}

main().catch((err: Error) => {
  process.stderr.write(`${startFailureText('opsgenie-sink', err)}\n`);
  process.exit(1);
});
