import type { AliasState } from '@alertbus/schemas';
import { StateIndex } from './neighbours';

/**
 * A storm book keeps the states of its first members as the summary last listed them: whatever joins, resolves or
 * leaves, what it lists must be what an index holding only the current states lists.
 */
const STORM = { id: 'a69d17a3-0cfd-89fb-ba3d-272a6baf86aa', channel: '#alerts', since: '2025-03-01T10:00:00.000Z', threshold: 30, window: '1m' };

const state = (i: number, openedSec: number, resolved = false) =>
  ({
    alias: `alertmanager:host-${i}`,
    incidentId: `00000000-0000-8000-8000-${String(i).padStart(12, '0')}`,
    occurrence: 1,
    status: resolved ? 'resolved' : 'open',
    ...(resolved ? { resolvedAt: '2025-03-01T11:00:00.000Z' } : {}),
    count: 1,
    title: `Disk full on host-${i}`,
    severity: 'warning',
    source: 'alertmanager',
    labels: { alertname: 'DiskFull', instance: `host-${i}` },
    links: [],
    openedAt: new Date(Date.parse(STORM.since) + openedSec * 1000).toISOString(),
    lastSeenAt: new Date(Date.parse(STORM.since) + openedSec * 1000).toISOString(),
    slackChannel: '#alerts',
    paged: false,
    storm: { ...STORM, pageGrouped: false },
  }) as unknown as AliasState;

const listed = (index: StateIndex, read = Number.POSITIVE_INFINITY) => {
  const out: string[] = [];
  for (const s of index.stormMembers(STORM.id, STORM.channel, { atMs: Date.parse(STORM.since) }).members) {
    if (out.length >= read) break;
    out.push(JSON.stringify(s));
  }
  return out;
};

describe('StateIndex: the storm members it keeps listed', () => {
  it('lists what an index of the current states lists, through joins in and out of order, resolves and departures', () => {
    const index = new StateIndex();
    const current = new Map<string, AliasState>();
    const hold = (s: AliasState) => {
      index.set(s);
      current.set(s.alias, s);
    };
    const fresh = () => {
      const other = new StateIndex();
      for (const s of current.values()) other.set(s);
      return other;
    };
    const check = () => {
      expect(listed(index)).toEqual(listed(fresh()));
      // Read in part too: the summary stops when its section is full.
      expect(listed(index, 10)).toEqual(listed(fresh(), 10));
    };
    for (let i = 0; i < 100; i++) hold(state(i, 100 + i));
    check();
    // One of the first members resolves; one far past them too.
    hold(state(3, 103, true));
    check();
    hold(state(90, 190, true));
    check();
    // A member opened before all the others (a partition decided late), and one among the first listed.
    hold(state(200, 1));
    check();
    hold(state(201, 105));
    check();
    // Beyond what is kept listed.
    hold(state(202, 170));
    check();
    // A member leaves (evicted), among the first and after them.
    index.delete('alertmanager:host-5');
    current.delete('alertmanager:host-5');
    check();
    index.delete('alertmanager:host-80');
    current.delete('alertmanager:host-80');
    check();
    // The first members leave one by one until the storm is gone.
    for (const alias of [...current.keys()]) {
      index.delete(alias);
      current.delete(alias);
      if (current.size % 17 === 0) check();
    }
    expect(listed(index)).toEqual([]);
  });
});
