/** Jest globalTeardown: stops what test/global-setup.ts started (never a broker given via KAFKA_BROKERS). */
import { rmSync } from 'node:fs';
import type { Supervisor } from '@alertbus/launcher';
import type { LocalBroker } from '../packages/kafka/src/local/broker';
import { BROKER_HANDLE_KEY, POSTGRES_HANDLE_KEY } from './global-setup';

type WithHandle = typeof globalThis & {
  [BROKER_HANDLE_KEY]?: LocalBroker;
  [POSTGRES_HANDLE_KEY]?: { supervisor: Supervisor; dir: string };
};

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as WithHandle;
  const pg = g[POSTGRES_HANDLE_KEY];
  if (pg) {
    delete g[POSTGRES_HANDLE_KEY];
    await pg.supervisor.stop();
    rmSync(pg.dir, { recursive: true, force: true });
  }
  const broker = g[BROKER_HANDLE_KEY];
  if (!broker) return;
  delete g[BROKER_HANDLE_KEY];
  await broker.stop();
}
