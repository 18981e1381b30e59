/**
 * The ops routes over real HTTP: /healthz and /readyz name the answering process (PID_HEADER), so the launcher can
 * tell a service's answer from another process's that holds the port it gave the service; /readyz says why not.
 */
import { Registry } from 'prom-client';
import { PID_HEADER, startOpsServer } from './ops-server';

test('/healthz and /readyz carry the process id; /readyz answers 503 with the reason until ready', async () => {
  let reason: string | null = 'joining Kafka';
  const ops = await startOpsServer(0, new Registry(), { ready: () => reason });
  try {
    const health = await fetch(`${ops.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get(PID_HEADER)).toBe(String(process.pid));

    const notReady = await fetch(`${ops.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get(PID_HEADER)).toBe(String(process.pid));
    expect(await notReady.json()).toEqual({ status: 'not ready', reason: 'joining Kafka' });

    reason = null;
    const ready = await fetch(`${ops.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get(PID_HEADER)).toBe(String(process.pid));
  } finally {
    await ops.app.close();
  }
});
