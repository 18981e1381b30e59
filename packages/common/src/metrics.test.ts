import perfHooks from 'node:perf_hooks';
import { createRegistry } from './metrics';

describe('createRegistry', () => {
  afterEach(() => jest.restoreAllMocks());

  it("looks at the event loop's delay ten times a second, not a hundred (prom-client's default wakes every service every 10 ms)", async () => {
    const monitors: Array<number | undefined> = [];
    const real = perfHooks.monitorEventLoopDelay;
    jest.spyOn(perfHooks, 'monitorEventLoopDelay').mockImplementation((opts) => {
      monitors.push(opts?.resolution);
      return real(opts);
    });
    const registry = createRegistry('test-service');
    expect(monitors).toHaveLength(1);
    expect(monitors[0]).toBeGreaterThanOrEqual(100);
    // The lag percentiles are still there, and read from that monitor.
    const text = await registry.metrics();
    expect(text).toMatch(/^alertbus_nodejs_eventloop_lag_p99_seconds\{service="test-service"\} /m);
    registry.clear();
  });
});
