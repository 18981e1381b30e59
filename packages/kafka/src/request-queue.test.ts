import { createRequire } from 'node:module';
import { quietRequestQueues } from './request-queue';

const kafkajs = createRequire(require.resolve('kafkajs'));

interface Queue {
  push(request: { entry: { correlationId: number; resolve: () => void; reject: () => void }; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: unknown; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
  pending: unknown[];
  throttleCheckTimeoutId: unknown;
}
const RequestQueue = kafkajs('./src/network/requestQueue') as new (opts: Record<string, unknown>) => Queue;
const quiet = { debug: () => undefined, warn: () => undefined, info: () => undefined, error: () => undefined };
const newQueue = (maxInFlightRequests: number | null = null) =>
  new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:9092', logger: quiet });

/** A request as a connection pushes it: `sent` lists the correlation ids that went on the wire, in order. */
function request(correlationId: number, sent: number[]) {
  return { entry: { correlationId, resolve: () => undefined, reject: () => undefined }, expectResponse: true, sendRequest: () => sent.push(correlationId) };
}

describe('quietRequestQueues', () => {
  beforeAll(() => expect(quietRequestQueues()).toBe(true));
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('arms no timer once a response comes back and nothing waits', () => {
    const queue = newQueue();
    const sent: number[] = [];
    queue.push(request(1, sent));
    queue.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(sent).toEqual([1]);
    expect(queue.throttleCheckTimeoutId).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
    queue.destroy();
  });

  it('still sends a request that waited for a free in-flight slot, when the slot frees', () => {
    const queue = newQueue(1);
    const sent: number[] = [];
    queue.push(request(1, sent));
    queue.push(request(2, sent));
    expect(sent).toEqual([1]);
    queue.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(sent).toEqual([1, 2]);
    queue.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
    // The check armed while request 2 waited fires once more, finds nothing, and arms nothing.
    jest.runOnlyPendingTimers();
    expect(jest.getTimerCount()).toBe(0);
    queue.destroy();
  });

  it('still sends a request held back by a throttle once the throttle ends, then stops checking', () => {
    const queue = newQueue();
    const sent: number[] = [];
    queue.maybeThrottle(50);
    queue.push(request(1, sent));
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(49);
    expect(sent).toEqual([]);
    jest.advanceTimersByTime(20);
    expect(sent).toEqual([1]);
    expect(queue.pending).toEqual([]);
    queue.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(jest.getTimerCount()).toBe(0);
    queue.destroy();
  });
});
