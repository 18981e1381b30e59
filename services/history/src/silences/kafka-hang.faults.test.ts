/**
 * A silence written while the broker hangs (its process stopped with SIGSTOP: connections open, nothing answered),
 * on a broker of this file's own: the request is answered 503 within HISTORY_KAFKA_TIMEOUT_MS, saying the write may
 * still land, instead of holding the client until it gives up (five minutes, then "cannot reach the history API").
 */
import { ensureDatabase } from '@alertbus/common';
import { startLocalBroker, type LocalBroker } from '@alertbus/kafka';
import { dropTestDatabase } from '../../../../test/support/db';
import { waitFor } from '../../../../test/support/wait';
import { startHistory, type HistoryService } from '../index';

jest.setTimeout(240_000);

const OPERATOR = { name: 'alice', role: 'operator' as const, token: 'kafka-hang-operator-token-1' };
const TIMEOUT_MS = 2_000;

let broker: LocalBroker | undefined;
let service: HistoryService | undefined;

async function post(body: unknown): Promise<{ status: number; body: any; ms: number; retryAfter: string | null }> {
  const started = Date.now();
  const res = await fetch(`${service!.url}/api/silences`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), ms: Date.now() - started, retryAfter: res.headers.get('retry-after') };
}

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  broker = await startLocalBroker({});
  service = await startHistory({
    brokers: broker.brokers,
    databaseUrl: process.env.DATABASE_URL!,
    port: 0,
    logLevel: 'silent',
    tokens: [OPERATOR],
    kafkaTimeoutMs: TIMEOUT_MS,
  });
});

afterAll(async () => {
  if (broker && broker.pid > 0) process.kill(broker.pid, 'SIGCONT');
  await service?.close();
  await broker?.stop();
  await dropTestDatabase();
});

test('while the broker hangs, a silence is answered 503 in HISTORY_KAFKA_TIMEOUT_MS; once it answers again, silences are written', async () => {
  expect((await post({ matchers: ['team="db"'], duration: '1h', comment: 'before' })).status).toBe(201);

  process.kill(broker!.pid, 'SIGSTOP');
  try {
    const hung = await post({ matchers: ['team="hang"'], duration: '1h', comment: 'broker stopped' });
    expect(hung).toMatchObject({ status: 503, retryAfter: '5', body: { error: 'unavailable' } });
    expect(hung.body.message).toMatch(/^Kafka did not acknowledge the silence .* within 2000 ms \(HISTORY_KAFKA_TIMEOUT_MS\); it may still be written/);
    // Answered at the deadline, not when the client gives up (a generous bound: this asserts no hang, not speed).
    expect(hung.ms).toBeLessThan(60_000);
  } finally {
    process.kill(broker!.pid, 'SIGCONT');
  }

  await waitFor(async () => (await post({ matchers: ['team="after"'], duration: '1h', comment: 'after' })).status === 201, {
    what: 'a silence written once the broker answers again',
    timeoutMs: 120_000,
  });
});
