import { ConfigError } from './config';
import { startFailureText } from './shutdown';

test('a setting read as a service starts is one line naming it, as at config loading; another failure keeps its stack', () => {
  expect(startFailureText('router', new ConfigError('KAFKA_IDLE_FETCH_WAIT_MS must be ≤ 10000, got 99999'))).toBe(
    'router: KAFKA_IDLE_FETCH_WAIT_MS must be ≤ 10000, got 99999',
  );
  const other = new Error('connect ECONNREFUSED 127.0.0.1:5432');
  expect(startFailureText('history', other)).toBe(`history failed to start: ${other.stack}`);
  expect(startFailureText('ingest', 'odd')).toBe('ingest failed to start: odd');
});
