/** `tsx services/history/src/main.ts`: history as its own process, configured from the environment. */
import { ConfigError, createLogger, startStoppable, startFailureText } from '@alertbus/common';
import { readHistoryConfig, type HistoryConfig } from './config';
import { boundOldSpaceGrowth } from './heap';
import { startHistory } from './index';

async function main(): Promise<void> {
  boundOldSpaceGrowth();
  let config: HistoryConfig;
  try {
    config = readHistoryConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`history: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger('history', config.logLevel);
  const service = await startStoppable(log, (signal) => startHistory({ ...config, log, signal }));
  if (!service) return;
  log.info({ url: service.url, api: `${service.url}/api/incidents` }, 'history listening');
}

main().catch((err) => {
  process.stderr.write(`${startFailureText('history', err)}\n`);
  process.exit(1);
});
