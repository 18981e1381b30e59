/**
 * Ingest keys every slash command (slashKey) before the router has checked who may run it: keying must not read a
 * silence's matchers, whose regexes cost up to milliseconds each to compile. The router parses them after the check.
 */
jest.mock('@alertbus/schemas', () => {
  const actual = jest.requireActual('@alertbus/schemas');
  return { ...actual, parseMatcher: jest.fn(actual.parseMatcher) };
});
import { parseMatcher } from '@alertbus/schemas';
import { slashKey } from './slash';

const parsed = parseMatcher as jest.MockedFunction<typeof parseMatcher>;

beforeEach(() => parsed.mockClear());

test.each([
  'silence alertname="DiskFull" env=~"prod|staging" for 2h -- disk swap',
  '--public silence {host=~"(db|web)-[0-9]+"} for 30m',
  'SILENCE job="node" for 1h',
])('keys %p by the request, without parsing its matchers', (text) => {
  expect(slashKey(text, 'T1', 'trigger-1')).toBe('slack-slash:T1:trigger-1');
  expect(parsed).not.toHaveBeenCalled();
});

test.each([
  ['ack alertmanager:abc', 'alertmanager:abc'],
  ['--public Resolve grafana:def', 'grafana:def'],
  ['acknowledge alertmanager:abc', 'alertmanager:abc'],
  ['incidents open', 'slack-slash:T1:trigger-1'],
  ['', 'slack-slash:T1:trigger-1'],
])('keys %p as before: ack and resolve by the alias they name, the rest by the request', (text, key) => {
  expect(slashKey(text, 'T1', 'trigger-1')).toBe(key);
});
