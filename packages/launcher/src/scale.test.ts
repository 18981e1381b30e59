/** `--scale`: what a spec means, and the message a bad one gets. */
import { parseScale, serviceInstances } from './scale';

describe('parseScale', () => {
  test.each([
    ['router=3,slack-sink=2', [['router', 3], ['slack-sink', 2]]],
    [' ingest = 2 , history=1 ', [['ingest', 2], ['history', 1]]],
    ['opsgenie-sink=16,', [['opsgenie-sink', 16]]],
  ])('%s', (spec, expected) => {
    expect([...parseScale(spec)]).toEqual(expected);
  });

  test.each([
    ['routers=2', 'no service called "routers"; the services are history, router, slack-sink, opsgenie-sink, ingest'],
    ['router=0', 'the count of router must be a whole number from 1 to 16, got "0"'],
    ['router=17', 'from 1 to 16, got "17"'],
    ['router=two', 'got "two"'],
    ['router=1.5', 'got "1.5"'],
    ['router=', 'got ""'],
    ['router', '"router" is not <service>=<count>'],
    ['router=2,router=3', 'router is named twice'],
    ['', 'name at least one <service>=<count>'],
  ])('%s is refused', (spec, message) => {
    expect(() => parseScale(spec)).toThrow(message);
  });
});

describe('serviceInstances', () => {
  test('one of each by default, named as the service, with no instance ids', () => {
    expect(serviceInstances().map((i) => [i.name, i.env])).toEqual([
      ['history', {}],
      ['router', {}],
      ['slack-sink', {}],
      ['opsgenie-sink', {}],
      ['ingest', {}],
    ]);
  });

  test('several: each named and numbered from 0; routers get distinct ROUTER_INSTANCE_IDs (their transactional ids)', () => {
    const instances = serviceInstances(parseScale('router=3,slack-sink=2'));
    expect(instances.map((i) => [i.name, i.env])).toEqual([
      ['history', {}],
      ['router-0', { ALERTBUS_INSTANCE_ID: '0', ROUTER_INSTANCE_ID: '0' }],
      ['router-1', { ALERTBUS_INSTANCE_ID: '1', ROUTER_INSTANCE_ID: '1' }],
      ['router-2', { ALERTBUS_INSTANCE_ID: '2', ROUTER_INSTANCE_ID: '2' }],
      ['slack-sink-0', { ALERTBUS_INSTANCE_ID: '0' }],
      ['slack-sink-1', { ALERTBUS_INSTANCE_ID: '1' }],
      ['opsgenie-sink', {}],
      ['ingest', {}],
    ]);
  });
});
