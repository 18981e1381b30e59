import { NiceError, parseNice } from './priority';
import { niceOf } from './services';

const SERVICES = ['history', 'router', 'slack-sink', 'opsgenie-sink', 'ingest'];

describe('ALERTBUS_NICE', () => {
  it.each([
    ['off', []],
    [' OFF ', []],
    ['history=10', [['history', 10]]],
    ['history=10, router = 5,slack-sink=0,', [['history', 10], ['router', 5], ['slack-sink', 0]]],
    ['opsgenie-sink=19', [['opsgenie-sink', 19]]],
  ] as const)('%j gives %j', (spec, expected) => {
    expect([...parseNice(spec, SERVICES)]).toEqual(expected);
  });

  it.each([
    ['history', '"history" is not <service>=<niceness> (e.g. history=10), and not "off"'],
    ['history=20', 'the niceness of history must be a whole number from 0 to 19, got "20"'],
    ['history=-5', 'the niceness of history must be a whole number from 0 to 19, got "-5"'],
    ['history=1.5', 'the niceness of history must be a whole number from 0 to 19, got "1.5"'],
    ['postgres=5', 'no service called "postgres"; the services are history, router, slack-sink, opsgenie-sink, ingest'],
    ['router=1,router=2', 'router is named twice'],
  ])('refuses %j', (spec, message) => {
    expect(() => parseNice(spec, SERVICES)).toThrow(new NiceError(`ALERTBUS_NICE: ${message}`));
  });

  it('applies to the services only: the stand-ins run as the launcher', () => {
    const env = { ALERTBUS_NICE: 'history=10,router=4' };
    expect(niceOf('history', env)).toBe(10);
    expect(niceOf('router', env)).toBe(4);
    expect(niceOf('ingest', env)).toBe(0);
    expect(niceOf('slack-stand-in', env)).toBe(0);
  });
});
