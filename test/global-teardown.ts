/** Jest globalTeardown: stops the broker test/global-setup.ts started (never one given via KAFKA_BROKERS). */
import type { LocalBroker } from '../packages/kafka/src/local/broker';
import { BROKER_HANDLE_KEY } from './global-setup';

type WithHandle = typeof globalThis & { [BROKER_HANDLE_KEY]?: LocalBroker };

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as WithHandle;
  const broker = g[BROKER_HANDLE_KEY];
  if (!broker) return;
  delete g[BROKER_HANDLE_KEY];
  await broker.stop();
}
