import { remainingMs } from './inbox';

describe("Slack's 3 s: Kafka gets what the look-ups left of INGEST_SLACK_TIMEOUT_MS", () => {
  test('the time the user-name and group look-ups took comes off the Kafka wait', () => {
    expect(remainingMs(2500, 1000, 1000)).toBe(2500);
    expect(remainingMs(2500, 1000, 1800)).toBe(1700); // 800 ms of users.info
    expect(remainingMs(2500, 1000, 2000.4)).toBe(1500);
  });

  test('at least 100 ms, so a request whose look-ups took it all still tries once (a refusal is a 503 Slack retries)', () => {
    expect(remainingMs(2500, 0, 2450)).toBe(100);
    expect(remainingMs(2500, 0, 9000)).toBe(100);
  });
});
