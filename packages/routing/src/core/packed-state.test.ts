import type { RouterState } from '../state';
import { packState, unpackState } from './packed-state';

const incident = (i: number) =>
  ({
    alias: `alertmanager:host-${i}`,
    incidentId: '5b26c9d0-2053-8141-beaf-6d4a82d49d52',
    occurrence: 1,
    status: 'open',
    count: 3,
    title: `Disk almost full on host-${i} 🔥 <&>`,
    severity: 'warning',
    source: 'alertmanager',
    labels: { alertname: 'DiskFull', instance: `host-${i}:9100`, '': 'empty name', team: '' },
    links: [{ title: 'Source', url: `http://prometheus:9090/graph?host=${i}` }],
    openedAt: '2025-03-01T10:00:00.000Z',
    lastSeenAt: '2025-03-01T10:00:00.000Z',
    lastNotifiedAt: '2025-03-01T10:00:00Z',
    slackChannel: '#alerts',
    paged: true,
    rule: { path: 'defaults', rulesVersion: '66db8f158870df796e57554d6c48d8da532492659acedf812eb4d07fa6cb029e' },
    lastInputId: 'CA40F34C-EA37-8DE9-82E4-1AC0ECE5D217',
    storm: { id: 'a69d17a3-0cfd-89fb-ba3d-272a6baf86aa', channel: '#alerts', since: '2025-03-01T10:00:00.030Z', threshold: 30, window: '1m', pageGrouped: true },
    odd: [1.5, -2, 0, null, 'alertmanager:host-1', 2 ** 60],
  }) as unknown as RouterState;

describe('packed router states', () => {
  it('unpack to the same JSON, key order included, whether their strings were numbered yet or not', () => {
    for (let i = 0; i < 5; i++) {
      const s = incident(i % 2);
      const key = (s as { alias: string }).alias;
      const packed = packState(s, key);
      expect(JSON.stringify(unpackState(packed, key))).toBe(JSON.stringify(s));
    }
  });

  it('are smaller than the JSON, and one-byte strings when the state text is', () => {
    const s = { ...(incident(7) as object), title: 'Disk almost full on host-7' } as RouterState;
    const packed = packState(s, 'alertmanager:host-7');
    expect(packed.length).toBeLessThan(JSON.stringify(s).length / 2);
    expect([...packed].every((c) => c.charCodeAt(0) < 256)).toBe(true);
  });

  it('keeps Slack records and an alias that is not the key', () => {
    const s = { kind: 'thread', key: 'slack:T1:C1:1700000000.000100', alias: 'slack:T1:C1:1700000000.000100', at: '2025-03-01T10:00:00.000Z' } as unknown as RouterState;
    expect(unpackState(packState(s, 'other'), 'other')).toEqual(s);
    expect(unpackState(packState(s, 'slack:T1:C1:1700000000.000100'), 'slack:T1:C1:1700000000.000100')).toEqual(s);
  });
});
