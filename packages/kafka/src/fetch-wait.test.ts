import { ConfigError } from '@alertbus/common';
import { DEFAULT_IDLE_FETCH_WAIT_MS, idleFetchWaitMs } from './fetch-wait';

test('KAFKA_IDLE_FETCH_WAIT_MS: 1 s unless set, 0–5000 ms, anything else refused with its name', () => {
  expect(idleFetchWaitMs({})).toBe(DEFAULT_IDLE_FETCH_WAIT_MS);
  expect(idleFetchWaitMs({ KAFKA_IDLE_FETCH_WAIT_MS: '' })).toBe(1_000);
  expect(idleFetchWaitMs({ KAFKA_IDLE_FETCH_WAIT_MS: '250' })).toBe(250);
  expect(idleFetchWaitMs({ KAFKA_IDLE_FETCH_WAIT_MS: '0' })).toBe(0);
  expect(() => idleFetchWaitMs({ KAFKA_IDLE_FETCH_WAIT_MS: '6000' })).toThrow(ConfigError);
  expect(() => idleFetchWaitMs({ KAFKA_IDLE_FETCH_WAIT_MS: '1s' })).toThrow(/KAFKA_IDLE_FETCH_WAIT_MS/);
});
