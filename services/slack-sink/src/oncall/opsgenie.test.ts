/** Opsgenie who-is-on-call over HTTP (the Opsgenie stand-in): answers, and failures classified for the retry policy. */
import { createServer } from 'node:net';
import { DeliveryError } from '@alertbus/common';
import { OPSGENIE_STAND_IN_KEY, startOpsgenieStandIn, type OpsgenieStandIn } from '../../../../packages/stand-ins/src/opsgenie/server';
import { opsgenieOnCall } from './opsgenie';

let og: OpsgenieStandIn;
beforeAll(async () => {
  og = await startOpsgenieStandIn({ onCall: { 'Ops Team': ['alice@example.com', 'bob@example.com', 'alice@example.com'], empty: [] } });
});
afterAll(() => og.close());

const client = (apiKey = OPSGENIE_STAND_IN_KEY, apiUrl = og.url) => opsgenieOnCall({ apiUrl, apiKey, timeoutMs: 2_000 });

async function failure(p: Promise<unknown>): Promise<DeliveryError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(err)}`);
  return err;
}

test('the on-call usernames of a schedule by name (URL-encoded), each once', async () => {
  expect(await client().whoIsOnCall('Ops Team')).toEqual(['alice@example.com', 'bob@example.com']);
  expect(await client().whoIsOnCall('empty')).toEqual([]);
  expect(og.state.calls.at(-2)!.url).toBe('/v2/schedules/Ops%20Team/on-calls?scheduleIdentifierType=name&flat=true');
});

test('an unknown schedule and a wrong key are permanent; the key never appears in the error', async () => {
  const missing = await failure(client().whoIsOnCall('nope'));
  expect(missing).toMatchObject({ permanent: true, httpStatus: 404 });
  expect(missing.message).toBe('Opsgenie who-is-on-call: HTTP 404 Schedule with identifier [nope] does not exist');
  const unauthorised = await failure(client('wrong-key-123').whoIsOnCall('empty'));
  expect(unauthorised).toMatchObject({ permanent: true, httpStatus: 401 });
  expect(unauthorised.message).not.toContain('wrong-key-123');
});

test('429 (with Opsgenie\'s throttle window as the wait), 5xx and network errors are worth retrying', async () => {
  og.state.failNext('onCalls', { status: 429, headers: { 'x-ratelimit-period-in-sec': '7' } });
  const limited = await failure(client().whoIsOnCall('empty'));
  expect(limited).toMatchObject({ permanent: false, httpStatus: 429, retryAfterMs: 7_000 });
  og.state.failNext('onCalls', { status: 502, body: '<html>bad gateway</html>' });
  expect(await failure(client().whoIsOnCall('empty'))).toMatchObject({ permanent: false, httpStatus: 502 });
  const closedPort = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
  const refused = await failure(client(OPSGENIE_STAND_IN_KEY, `http://127.0.0.1:${closedPort}`).whoIsOnCall('empty'));
  expect(refused).toMatchObject({ permanent: false, message: 'Opsgenie who-is-on-call: network error ECONNREFUSED' });
});
