/**
 * BrokerHealth against an address where nothing listens (every probe fails at once): an acknowledged write
 * keeps the cluster reachable through a failed probe soon after it, and only that soon.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { BrokerHealth } from './broker-health';

let closedPort: number;

beforeAll(async () => {
  // A port that was just free and is closed again: connections to it are refused.
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closedPort = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
});

test('a failed probe soon after an acknowledged write leaves the cluster reachable; later it does not', async () => {
  const health = new BrokerHealth({ brokers: [`127.0.0.1:${closedPort}`], clientId: 'health-test', intervalMs: 200, timeoutMs: 300 });
  await health.probe();
  expect(health.reachable).toBe(false);
  expect(health.problem).toMatch(/did not answer a metadata request within 300 ms/);

  health.answered();
  expect(health.reachable).toBe(true);
  await health.probe();
  expect(health.reachable).toBe(true);
  expect(health.problem).toBeNull();

  await new Promise((r) => setTimeout(r, 600));
  await health.probe();
  expect(health.reachable).toBe(false);
  await health.stop();
});
