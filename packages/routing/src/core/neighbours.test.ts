import type { AliasState } from '@alertbus/schemas';
import { byOpened, StateIndex } from './neighbours';
import { packState, unpackState } from './packed-state';
import { PackedStore, records } from './packed-store';

const STORM = { id: 'a69d17a3-0cfd-89fb-ba3d-272a6baf86aa', channel: '#alerts', since: '2025-03-01T10:00:00.000Z', threshold: 30, window: '1m' };

const member = (i: number, pageGrouped: boolean, resolvedAt?: string) =>
  ({
    alias: `alertmanager:host-${i}`,
    incidentId: `00000000-0000-8000-8000-00000000000${i}`,
    occurrence: 1,
    status: resolvedAt ? 'resolved' : 'open',
    ...(resolvedAt ? { resolvedAt } : {}),
    count: 1,
    title: `Disk full on host-${i}`,
    severity: 'warning',
    source: 'alertmanager',
    labels: { alertname: 'DiskFull', instance: `host-${i}` },
    links: [],
    openedAt: `2025-03-01T10:00:0${i}.000Z`,
    lastSeenAt: `2025-03-01T10:00:0${i}.000Z`,
    slackChannel: '#alerts',
    paged: false,
    storm: { ...STORM, pageGrouped },
  }) as unknown as AliasState;

describe('StateIndex.stormMembers', () => {
  const retentionMs = 3_600_000;
  const resolvedAt = '2025-03-01T11:00:00.000Z';
  const afterExpiry = Date.parse(resolvedAt) + retentionMs + 1;

  it.each([
    ['paging on its own', false],
    ["paging through the storm's alert", true],
  ])('leaves out a member resolved longer ago than the retention (%s)', (_what, pageGrouped) => {
    const index = new StateIndex();
    index.set(member(1, pageGrouped, resolvedAt));
    index.set(member(2, pageGrouped));
    const before = index.stormMembers(STORM.id, STORM.channel, { atMs: Date.parse(resolvedAt) + 1, retentionMs });
    expect([before.total, before.open]).toEqual([2, 1]);
    const after = index.stormMembers(STORM.id, STORM.channel, { atMs: afterExpiry, retentionMs });
    expect([after.total, after.open]).toEqual([1, 1]);
    expect([...after.members].map((s) => s.alias)).toEqual(['alertmanager:host-2']);
    expect([after.paged, after.pagedOpen]).toEqual(pageGrouped ? [1, 1] : [0, 0]);
  });
});

describe('StateIndex: its records', () => {
  it("finds its own state of an alias while other holders keep other states of it, and releases only its own", () => {
    const index = new StateIndex();
    const other = new StateIndex();
    const store = new PackedStore();
    const held = records.records;
    index.set(member(1, false));
    other.set(member(1, false, '2025-03-01T11:00:00.000Z'));
    store.set('alertmanager:host-1', packState(member(1, true), 'alertmanager:host-1'));
    // Three states of one alias: one record each, every holder reading its own.
    expect(records.records).toBe(held + 3);
    expect(index.get('alertmanager:host-1')!.status).toBe('open');
    expect(other.get('alertmanager:host-1')!.status).toBe('resolved');
    expect(index.size).toBe(1);
    // The same state in the store as in the index: one record, held twice.
    store.set('alertmanager:host-1', index.packed('alertmanager:host-1')!);
    expect(records.records).toBe(held + 2);
    index.delete('alertmanager:host-1');
    expect(index.get('alertmanager:host-1')).toBeUndefined();
    expect([index.size, other.size]).toEqual([0, 1]);
    expect(store.get('alertmanager:host-1')).toBe(packState(member(1, false), 'alertmanager:host-1'));
    expect(records.records).toBe(held + 2);
    other.delete('alertmanager:host-1');
    store.clear();
    expect(records.records).toBe(held);
  });

  it('keeps no table of aliases of its own: its arrays are its fields by record id', () => {
    const index = new StateIndex();
    for (let i = 0; i < 5_000; i++) index.set({ ...member(1, false), alias: `alertmanager:bulk-${i}` } as AliasState);
    expect(index.size).toBe(5_000);
    // Two times, flags and a storm's number: 21 bytes an id, for as many ids as the arena has room for.
    expect(index.footprint).toBeLessThanOrEqual(21 * records.idCapacity);
    expect(index.get('alertmanager:bulk-4321')!.alias).toBe('alertmanager:bulk-4321');
    for (let i = 0; i < 5_000; i++) index.delete(`alertmanager:bulk-${i}`);
    expect(index.size).toBe(0);
  });
});

describe('StateIndex.stormMembers: the last change', () => {
  const at = { atMs: Date.parse('2025-03-01T12:00:00.000Z'), retentionMs: 7 * 86_400_000 };

  it('is the latest opening or resolve of the members there now, also after the one that changed last left', () => {
    const index = new StateIndex();
    index.set(member(1, false));
    index.set(member(2, false));
    expect(index.stormMembers(STORM.id, STORM.channel, at).lastChangeMs).toBe(Date.parse('2025-03-01T10:00:02.000Z'));
    index.set(member(1, false, '2025-03-01T11:00:00.000Z'));
    expect(index.stormMembers(STORM.id, STORM.channel, at).lastChangeMs).toBe(Date.parse('2025-03-01T11:00:00.000Z'));
    // The member that changed last leaves the storm: the latest change is the other one's opening.
    index.delete('alertmanager:host-1');
    expect(index.stormMembers(STORM.id, STORM.channel, at).lastChangeMs).toBe(Date.parse('2025-03-01T10:00:02.000Z'));
    index.set(member(3, false));
    expect(index.stormMembers(STORM.id, STORM.channel, at).lastChangeMs).toBe(Date.parse('2025-03-01T10:00:03.000Z'));
    // Replaced by the same time (a repeat): still the latest.
    index.set(member(3, false));
    expect(index.stormMembers(STORM.id, STORM.channel, at).lastChangeMs).toBe(Date.parse('2025-03-01T10:00:03.000Z'));
    // An index built from the same states answers the same.
    const rebuilt = new StateIndex();
    for (const s of index.values()) rebuilt.set(s);
    expect(rebuilt.stormMembers(STORM.id, STORM.channel, at).lastChangeMs).toBe(index.stormMembers(STORM.id, STORM.channel, at).lastChangeMs);
  });
});

describe('StateIndex.get', () => {
  it('answers with the state held now after the alias was read, replaced, deleted and its record reused', () => {
    const index = new StateIndex();
    index.set(member(1, false));
    expect(index.get('alertmanager:host-1')?.count).toBe(1);
    index.set({ ...member(1, false), count: 2 });
    expect(index.get('alertmanager:host-1')?.count).toBe(2);
    index.delete('alertmanager:host-1');
    expect(index.get('alertmanager:host-1')).toBeUndefined();
    index.set(member(2, false));
    expect(index.get('alertmanager:host-2')?.alias).toBe('alertmanager:host-2');
    index.set({ ...member(2, false), count: 5 });
    expect(index.stormMembers(STORM.id, STORM.channel, { atMs: Date.parse('2025-03-01T10:01:00.000Z') }).total).toBe(1);
    expect([...index.values()].map((s) => s.count)).toEqual([5]);
    expect(index.get('alertmanager:host-2')?.count).toBe(5);
  });
});

describe('StateIndex.stormWindow', () => {
  it("answers from the channel's latest storm member still seen: one resolved longer ago than the retention is not", () => {
    const index = new StateIndex();
    index.set(member(1, false));
    index.set(member(2, false, '2025-03-01T11:00:00.000Z'));
    const retentionMs = 3_600_000;
    const window = (atMs: number) => index.stormWindow('#alerts', 'alertmanager:other', atMs - 60_000, atMs, { atMs, retentionMs });
    expect(window(Date.parse('2025-03-01T11:30:00.000Z')).latest).toEqual({ since: STORM.since, lastOpenedMs: Date.parse('2025-03-01T10:00:02.000Z') });
    expect(window(Date.parse('2025-03-01T12:00:00.000Z')).latest).toEqual({ since: STORM.since, lastOpenedMs: Date.parse('2025-03-01T10:00:01.000Z') });
  });
});

describe('StateIndex: what a plain map of the same states answers', () => {
  // openedAt in ISO form (ordered by its number) and not (a time without milliseconds, one before 1970: by the string).
  const OPENED = ['2025-03-01T10:00:01.000Z', '2025-03-01T10:00:01Z', '1969-12-31T23:59:59.000Z', '2025-03-01T10:00:00.500Z', '2025-03-01T10:00:01.000+00:00', '2025-03-01T10:00:02.000Z'];

  it('gives every alias its state after any sequence of reads, replacements and deletes, with another index holding the same aliases', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % n;
    const index = new StateIndex();
    const other = new StateIndex();
    const model = new Map<string, AliasState>();
    const aliases = Array.from({ length: 6 }, (_, i) => `alertmanager:host-${i}`);
    for (let step = 0; step < 3_000; step++) {
      const alias = aliases[rand(aliases.length)]!;
      const op = rand(5);
      if (op === 0) {
        index.delete(alias);
        model.delete(alias);
      } else if (op === 1) {
        // Another holder's state of the same alias: a record of the same key in the arena that this index does not hold.
        other.set({ ...member(rand(9), rand(2) === 0), alias, count: step } as AliasState);
      } else if (op === 2) {
        const s = { ...member(rand(9), rand(2) === 0), alias, count: step, openedAt: OPENED[rand(OPENED.length)]! } as AliasState;
        index.set(s);
        model.set(alias, s);
      } else {
        const asked = aliases[rand(aliases.length)]!;
        const want = model.get(asked);
        expect(JSON.stringify(index.get(asked))).toBe(JSON.stringify(want));
        const packed = index.packed(asked);
        expect(packed === undefined ? undefined : JSON.stringify(unpackState(packed, asked))).toBe(want === undefined ? undefined : JSON.stringify(want));
        // The storm lists its members by openedAt whatever form each is in, as a sort of the map's states does.
        const inStorm = [...model.values()].filter((s) => s.storm?.id === STORM.id);
        const listed = [...index.stormMembers(STORM.id, STORM.channel, { atMs: Date.parse('2025-03-01T10:01:00.000Z') }).members];
        expect(listed.map((s) => s.alias)).toEqual(inStorm.sort(byOpened).map((s) => s.alias));
      }
      expect(index.size).toBe(model.size);
    }
    for (const alias of aliases) {
      index.delete(alias);
      other.delete(alias);
    }
  });
});
